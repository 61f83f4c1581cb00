"""Marking the words of a query in a search result (Chinese matched by character pairs, as the index does)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from knowledge.text import normalise, tokens

register = template.Library()


@register.filter
def highlight(text, query):
    text = str(text or "")
    if not query:
        return text
    folded = normalise(text)
    if len(folded) != len(text):  # a character that folds into several: mark nothing rather than the wrong thing
        return text
    marked = [False] * len(text)
    for token in set(tokens(query)):
        start = folded.find(token)
        while start != -1:
            for i in range(start, start + len(token)):
                marked[i] = True
            start = folded.find(token, start + 1)
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        chunk = escape(text[i:j])
        out.append(f"<mark>{chunk}</mark>" if marked[i] else chunk)
        i = j
    return mark_safe("".join(out))
