"""The web kit the apps' views share: service errors onto forms (forms), pages without counting (pagination), tables
of a page and their CSV/Excel files (tables, exports). No domain: what an app must add (the personal-data check of
the files' text, the record of each download) it registers here when it is ready."""
