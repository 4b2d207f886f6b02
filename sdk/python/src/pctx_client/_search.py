"""Ranking functions for ``search_functions``: BM25 over names and descriptions.

Each function's text is its namespace and name split into words (``NamespacedWithUnderscore``
→ "namespaced with underscore", ``fooBar`` → "foo bar") and its description. Words are
lower-cased, English stop words dropped and the rest stemmed (Snowball English), so
"numbers" finds "number" and "greeting" finds "greet". Only functions sharing at least one
word with the query are returned, best first.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import snowballstemmer

from pctx_client._utils import to_snake_case
from pctx_client.models import ListedFunction

_WORD = re.compile(r"[^\W_]{2,}")
_K1 = 1.5
_B = 0.75

# English stop words: too common to tell functions apart.
_STOP_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves
"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())

_stemmer = snowballstemmer.stemmer("english")


def tokens(text: str) -> list[str]:
    """``text``'s searchable words: split, lower-cased, stop words dropped, stemmed."""
    words = [
        w for w in _WORD.findall(to_snake_case(text).replace("_", " ")) if w not in _STOP_WORDS
    ]
    return list(_stemmer.stemWords(words))


def document(fn: ListedFunction) -> str:
    """The text a function is found by."""
    return f"{fn.namespace} {fn.name}: {fn.description or ''}"


@dataclass(frozen=True)
class Index:
    """A BM25 index over a list of functions (rebuild it when the list changes)."""

    functions: tuple[ListedFunction, ...]
    docs: tuple[Counter[str], ...]
    lengths: tuple[int, ...]
    df: Counter[str]

    @classmethod
    def build(cls, functions: Sequence[ListedFunction]) -> Index:
        """Index ``functions``."""
        docs = tuple(Counter(tokens(document(f))) for f in functions)
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        return cls(tuple(functions), docs, tuple(sum(d.values()) for d in docs), df)

    def search(self, query: str, k: int) -> list[ListedFunction]:
        """The at most ``k`` functions matching ``query``, best first (ties: listing order)."""
        terms = set(tokens(query))
        n = len(self.docs)
        if not terms or n == 0 or k <= 0:
            return []
        avg = sum(self.lengths) / n or 1.0
        idf = {t: math.log(1 + (n - self.df[t] + 0.5) / (self.df[t] + 0.5)) for t in terms}
        scored: list[tuple[float, int]] = []
        for i, (doc, length) in enumerate(zip(self.docs, self.lengths, strict=True)):
            score = 0.0
            for t in terms:
                tf = doc.get(t, 0)
                if tf:
                    score += idf[t] * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * length / avg))
            if score > 0:
                scored.append((-score, i))
        scored.sort()
        return [self.functions[i] for _, i in scored[:k]]
