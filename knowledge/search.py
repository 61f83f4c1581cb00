"""Search over the articles in force and the published cases.

Every document is one `SearchEntry` row holding its title and text as search tokens (knowledge/text.py). On
PostgreSQL a stored generated column `tsv` turns them into a tsvector (built by `array_to_tsvector`, so no
text-search parser or locale decides what a Chinese character is; title tokens appear again as `^token`) with a
GIN index.
A query keeps its 16 rarest informative tokens (one in more than a quarter of the documents says nothing), each
weighted by its rarity (inverse document frequency from `TermStat`, recounted from the index) and doubled in the
title. The candidates are the documents holding one of the rarest of them — as many tokens as keep the
candidates under a few thousand documents —, found through the index, and the same statement scores each
candidate by all 16 and returns the best. On SQLite (the zero-setup demo) the same ranking runs in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.permissions import COMPLAINT_CENTRE, FRONTLINE_UNIT, department_kind, is_admin, is_quality
from knowledge.models import Audience, SearchEntry, TermStat
from knowledge.text import query_tokens, tokens

COMMON_SHARE = 0.25  # a token in more of the documents than this is not searched for
TITLE_BONUS = 1.0  # a token in the title counts this much more
MAX_TERMS = 16  # the rarest tokens of a long description say what it is about
CANDIDATE_BUDGET = 3000  # documents the candidate tokens may find before the more common ones are left to scoring


@dataclass
class Hit:
    entry_id: int
    kind: str
    source_id: int
    title: str
    snippet: str
    category_path: str
    score: float


# --- who sees what ---------------------------------------------------------------------------------------------


def sees_everything(user) -> bool:
    """The quality team, who write the knowledge base, and administrators read every article."""
    return is_quality(user) or is_admin(user)


def is_frontline_reader(user) -> bool:
    """Frontline articles are for the frontline units and the complaint centre that works with them."""
    return department_kind(user) in (FRONTLINE_UNIT, COMPLAINT_CENTRE)


def audience_q(user, prefix: str = "") -> Q:
    """The documents this user's audience covers (as a filter on SearchEntry or, with a prefix, on Article)."""
    if sees_everything(user):
        return Q()
    q = Q(**{f"{prefix}audience": Audience.EVERYONE})
    if is_frontline_reader(user):
        q |= Q(**{f"{prefix}audience": Audience.FRONTLINE})
    if user.department_id:
        q |= Q(**{f"{prefix}audience": Audience.DEPARTMENT, f"{prefix}audience_department_id": user.department_id})
    return q


def _audience_sql(user) -> tuple[str, list]:
    if sees_everything(user):
        return "TRUE", []
    clauses, params = ["audience = %s"], [Audience.EVERYONE]
    if is_frontline_reader(user):
        clauses.append("audience = %s")
        params.append(Audience.FRONTLINE)
    if user.department_id:
        clauses.append("(audience = %s AND audience_department_id = %s)")
        params += [Audience.DEPARTMENT, user.department_id]
    return "(" + " OR ".join(clauses) + ")", params


# --- the index -------------------------------------------------------------------------------------------------


def entry_put(*, kind: str, source, title: str, body: str, snippet: str, category_path: str, audience: str,
              audience_department_id, effective_from=None, expires_on=None) -> SearchEntry:
    """Create or replace the search entry of an article or a case."""
    field = "article" if kind == SearchEntry.Kind.ARTICLE else "case"
    values = dict(kind=kind, title=title[:200], snippet=snippet[:300], category_path=category_path,
                  audience=audience, audience_department_id=audience_department_id, effective_from=effective_from,
                  expires_on=expires_on, tokens=index_tokens(title, body), updated_at=timezone.now())
    entry, _created = SearchEntry.objects.update_or_create(**{field: source}, defaults=values)
    _stats_stale()
    return entry


def entry_drop(*, article=None, case=None) -> None:
    if article is not None:
        SearchEntry.objects.filter(article=article).delete()
    if case is not None:
        SearchEntry.objects.filter(case=case).delete()
    _stats_stale()


def index_tokens(title: str, body: str) -> str:
    """The entry's distinct tokens, and its title's again marked with ^ (a match in the title counts more)."""
    in_title = dict.fromkeys(tokens(title))
    words = dict.fromkeys([*in_title, *tokens(body)])
    return " ".join([*words, *(f"^{t}" for t in in_title)])


STATS_LOCK = 7_240_001  # the advisory lock that lets one recount run at a time
TOTAL = ""  # the TermStat row that holds the number of documents counted; missing: the counts are stale


def _stats_stale() -> None:
    TermStat.objects.filter(term=TOTAL).delete()


def stats_refresh() -> int:
    """Recount how many documents hold each token (a few seconds over 50,000 documents)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [STATS_LOCK])
                if not cursor.fetchone()[0]:
                    return 0  # another recount is running
        TermStat.objects.all().delete()
        total = SearchEntry.objects.count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO knowledge_termstat (term, documents) "
                               "SELECT word, ndoc FROM ts_stat('SELECT tsv FROM knowledge_searchentry') "
                               "WHERE length(word) <= 64")
                terms = cursor.rowcount
        else:
            counts: dict[str, int] = {}
            for line in SearchEntry.objects.values_list("tokens", flat=True):
                for term in set(line.split()):
                    counts[term] = counts.get(term, 0) + 1
            TermStat.objects.bulk_create([TermStat(term=t, documents=n) for t, n in counts.items()],
                                         batch_size=2000)
            terms = len(counts)
        TermStat.objects.create(term=TOTAL, documents=total)
        return terms


SMALL_INDEX = 5000  # below this many documents a search recounts stale statistics itself (milliseconds)


def stats_refresh_if_stale() -> bool:
    """Beat's job: recount when documents changed since the last count."""
    if TermStat.objects.filter(term=TOTAL).exists() or not SearchEntry.objects.exists():
        return False
    stats_refresh()
    return True


@dataclass
class Term:
    token: str
    weight: float
    documents: int


def _terms(tokens_: list[str]) -> list[Term]:
    """The query's informative tokens, rarest first (at most MAX_TERMS): each weighted by its inverse document
    frequency; a token never counted is as rare as can be; one in more than COMMON_SHARE of the documents is
    left out."""
    known = dict(TermStat.objects.filter(term__in=[*tokens_, TOTAL]).values_list("term", "documents"))
    if TOTAL not in known:
        total = SearchEntry.objects.count()
        if total <= SMALL_INDEX:
            stats_refresh()
            known = dict(TermStat.objects.filter(term__in=[*tokens_, TOTAL]).values_list("term", "documents"))
        else:
            known[TOTAL] = total  # beat recounts within minutes; meanwhile the last counts serve
    total = max(known.pop(TOTAL, 1), 1)
    terms = []
    for token in tokens_:
        documents = known.get(token, 0)
        if documents > COMMON_SHARE * total and total >= 20:
            continue
        terms.append(Term(token, math.log(1 + total / (documents + 1)), documents))
    terms.sort(key=lambda t: (t.documents, tokens_.index(t.token)))
    return terms[:MAX_TERMS]


def _candidate_terms(terms: list[Term]) -> list[Term]:
    """The rarest terms, as many as keep the candidates under CANDIDATE_BUDGET documents (at least one term
    that occurs at all): a document sharing only common words with the query would rank low anyway."""
    chosen, documents = [], 0
    for term in terms:
        if chosen and documents and documents + term.documents > CANDIDATE_BUDGET:
            break
        chosen.append(term)
        documents += term.documents
    return chosen


# --- searching -------------------------------------------------------------------------------------------------


def search(*, user, query: str, kind: str | None = None, category=None, family=None, limit: int = 20,
           exclude_articles=()) -> list[Hit]:
    """The documents best matching the query that the user may read, in force today. `category`: that category
    and below; `family`: documents of the category's whole first-level family or without a category."""
    tokens_ = query_tokens(query)
    if not tokens_:
        return []
    terms = _terms(tokens_) or [Term(tokens_[0], 1.0, 0)]  # every word is everywhere: the first one, then
    if connection.vendor == "postgresql":
        return _search_postgres(user, terms, kind, category, family, limit, exclude_articles)
    return _search_python(user, terms, kind, category, family, limit, exclude_articles)


def _family_path(category) -> str:
    return "/" + category.path.strip("/").split("/")[0] + "/"


def _search_postgres(user, terms, kind, category, family, limit, exclude_articles) -> list[Hit]:
    where, params = [], []
    score_parts, score_params = [], []
    for term in terms:
        score_parts.append("CASE WHEN v @@ %s::tsquery THEN %s::float8 ELSE 0 END")
        score_params += [f"'{term.token}'", term.weight]
        score_parts.append("CASE WHEN v @@ %s::tsquery THEN %s::float8 ELSE 0 END")
        score_params += [f"'^{term.token}'", term.weight * TITLE_BONUS]
    candidates = _candidate_terms(terms)
    where.append("tsv @@ %s::tsquery")
    params.append(" | ".join(f"'{term.token}'" for term in candidates))
    today = timezone.localdate()
    where.append("(effective_from IS NULL OR effective_from <= %s) AND (expires_on IS NULL OR expires_on >= %s)")
    params += [today, today]
    audience, audience_params = _audience_sql(user)
    where.append(audience)
    params += audience_params
    if kind:
        where.append("kind = %s")
        params.append(kind)
    if category is not None:
        where.append("category_path LIKE %s")
        params.append(category.path + "%")
    if family is not None:
        where.append("(category_path = '' OR category_path LIKE %s)")
        params.append(_family_path(family) + "%")
    if exclude_articles:
        where.append("(article_id IS NULL OR NOT (article_id = ANY(%s)))")
        params.append(list(exclude_articles))
    filtered = f"knowledge_searchentry WHERE {' AND '.join(where)}"
    if sum(term.documents for term in candidates) > CANDIDATE_BUDGET:
        # Even the rarest word is in thousands of documents: score the newest of them that pass the filters, as
        # many as the budget (a corpus of common words would otherwise be scored row by row, whole).
        filtered = f"(SELECT * FROM {filtered} ORDER BY id DESC LIMIT {CANDIDATE_BUDGET}) candidates"
    # Each candidate's index vector is read once, into memory (`|| ''`, in a subquery kept apart by OFFSET 0): the
    # score's two matches per term against the stored column fetched a long vector from the TOAST table every
    # time (32 reads a row; 2,135 candidates took 110 ms, now 28).
    sql = (f"SELECT id, kind, COALESCE(article_id, case_id), title, snippet, category_path, "
           f"({' + '.join(score_parts)}) AS score "
           f"FROM (SELECT *, tsv || ''::tsvector AS v FROM {filtered} OFFSET 0) detoasted "
           f"ORDER BY score DESC, id DESC LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, score_params + params + [limit])
        return [Hit(*row[:6], score=float(row[6])) for row in cursor.fetchall()]


def _search_python(user, terms, kind, category, family, limit, exclude_articles) -> list[Hit]:
    weights = {term.token: term.weight for term in terms}
    candidates = {term.token for term in _candidate_terms(terms)}
    today = timezone.localdate()
    rows = SearchEntry.objects.filter(audience_q(user)).filter(
        Q(effective_from__isnull=True) | Q(effective_from__lte=today)).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    if kind:
        rows = rows.filter(kind=kind)
    if category is not None:
        rows = rows.filter(category_path__startswith=category.path)
    if family is not None:
        rows = rows.filter(Q(category_path="") | Q(category_path__startswith=_family_path(family)))
    if exclude_articles:
        rows = rows.exclude(article_id__in=list(exclude_articles))
    hits = []
    for entry in rows:
        held = set(entry.tokens.split())
        if not candidates & held:
            continue
        score = sum(w for t, w in weights.items() if t in held)
        score += sum(w * TITLE_BONUS for t, w in weights.items() if f"^{t}" in held)
        if score:
            hits.append(Hit(entry.pk, entry.kind, entry.article_id or entry.case_id, entry.title, entry.snippet,
                            entry.category_path, score))
    hits.sort(key=lambda h: (-h.score, -h.entry_id))
    return hits[:limit]


def highlight_terms(query: str) -> list[str]:
    """What to mark in the results: the query's words as typed (its Chinese runs and Latin words)."""
    return sorted({t for t in tokens(query)}, key=len, reverse=True)
