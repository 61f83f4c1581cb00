"""Knowledge search at a province's size: 50,000 articles and cases.

Builds a throw-away database (`complaints_bench_search`), loads the demo world without orders, and writes
40,000 articles (each with a version) and 10,000 published cases whose text is made of real telecom sentences
(the demo articles, the category tree, complaint descriptions) shuffled, so that common words are as common as in
life. Counts the token statistics once, then times, for a frontline agent:

- the search function for 300 queries (colloquial questions, fragments of descriptions), alone and narrowed to a
  category family;
- the intake suggestions (category articles + description matches + similar cases);
- the search page through Django's test client (parse, search, render).

Prints p50 / p95 / max in milliseconds per kind (target: p95 <= 100 ms) and one query plan.

    .venv/bin/python bench/search/run.py [--articles 40000] [--cases 10000] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    database_url,
    django_setup,
    flush_redis,
    manage,
    percentile,
    redis_url,
    reset_database,
    server_env,
)

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 100.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--articles", type=int, default=40000)
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sentences-only", action="store_true",
                        help="documents made only of the demo sentences (3,000 distinct tokens: the worst case)")
    return parser.parse_args(argv)


def demo_descriptions() -> list[str]:
    """The demo's complaint descriptions (demo/data/demo_phrasings_zh.json), their slots left empty."""
    import re

    from demo.phrasings import PHRASINGS_FILE

    leaves = json.loads(PHRASINGS_FILE.read_text("utf-8"))["leaves"]
    return [re.sub(r"\{\w+\}", "", text) for texts in leaves.values() for text in texts]


def sentence_pool() -> list[str]:
    """Real sentences and phrases, cut at punctuation."""
    import re

    from complaints.models import Category
    from demo.management.commands.seed_demo import STANDARD_ANSWERS
    from demo.phrasings import PHRASINGS_FILE

    texts = [item["body"] for item in json.loads((ROOT / "demo/data/demo_articles.json").read_text("utf-8"))]
    labelled = json.loads((ROOT / "tests/data/knowledge_labelled.json").read_text("utf-8"))
    answers = [text for texts_ in json.loads(PHRASINGS_FILE.read_text("utf-8"))["answers"].values()
               for text in texts_]
    texts += [a["body"] for a in labelled["articles"]] + demo_descriptions() + answers + list(STANDARD_ANSWERS.values())
    pieces = [p.strip() for t in texts for p in re.split(r"[，。；：\n]", t) if len(p.strip()) >= 4]
    pieces += [c.name for c in Category.objects.all()]
    return pieces


class Lexicon:
    """Real knowledge bases have tens of thousands of distinct words with a long tail. Our demo sentences alone
    would give 3,000 tokens each in thousands of documents, a worst case no real corpus has; so half of each
    document's clauses are real sentences and half are words drawn from a Zipf distribution over 30,000 words
    made of the characters of those sentences (`--sentences-only` measures the worst case)."""

    def __init__(self, pool: list[str], rng: random.Random, size: int = 30000):
        import itertools

        chars = sorted({ch for piece in pool for ch in piece if "\u4e00" <= ch <= "\u9fff"})
        self.rng = rng
        self.words = ["".join(rng.choice(chars) for _ in range(rng.choice((2, 2, 3, 4)))) for _ in range(size)]
        weights = [1 / (rank + 1) ** 1.07 for rank in range(size)]
        self.cumulative = list(itertools.accumulate(weights))

    def phrase(self) -> str:
        picks = self.rng.choices(self.words, cum_weights=self.cumulative, k=self.rng.randint(2, 5))
        return "".join(picks)


def build(args, rng: random.Random) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from complaints.models import Category
    from knowledge.models import Article, ArticleVersion, Audience, Case, SearchEntry
    from knowledge.search import index_tokens
    from org.models import User

    pool = sentence_pool()
    author = User.objects.get(username="quality")
    categories = list(Category.objects.all())
    today = timezone.localdate()

    lexicon = None if args.sentences_only else Lexicon(pool, rng)

    def clause():
        return rng.choice(pool) if lexicon is None or rng.random() < 0.5 else lexicon.phrase()

    def text(n_min, n_max):
        return "，".join(clause() for _ in range(rng.randint(n_min, n_max))) + "。"

    started = time.perf_counter()
    batch = 2000
    for offset in range(0, args.articles, batch):
        n = min(batch, args.articles - offset)
        with transaction.atomic():
            rows = []
            for _i in range(n):
                category = rng.choice(categories) if rng.random() < 0.9 else None
                rows.append(Article(kind=rng.choice(Article.Kind.values), title=(category.name if category else "通用")
                                    + "：" + clause()[:40], category=category, effective_from=today))
            articles = Article.objects.bulk_create(rows)
            bodies = [text(4, 14) for _ in articles]
            ArticleVersion.objects.bulk_create([
                ArticleVersion(article=a, number=1, title=a.title, body=b, author=author, author_name="基准")
                for a, b in zip(articles, bodies, strict=True)])
            SearchEntry.objects.bulk_create([
                SearchEntry(kind="article", article=a, title=a.title, snippet=b[:160],
                            category_path=a.category.path if a.category else "", audience=Audience.EVERYONE,
                            effective_from=today, tokens=index_tokens(a.title, b))
                for a, b in zip(articles, bodies, strict=True)])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE knowledge_article a SET current_id = v.id FROM knowledge_articleversion v "
                       "WHERE v.article_id = a.id AND a.current_id IS NULL")
    now = timezone.now()
    for offset in range(0, args.cases, batch):
        n = min(batch, args.cases - offset)
        with transaction.atomic():
            cases = Case.objects.bulk_create([
                Case(title=clause()[:60], category=rng.choice(categories), problem=text(2, 5),
                     handling=text(2, 6), lessons=text(0, 2), status="published", proposed_by=author,
                     published_at=now) for _ in range(n)])
            SearchEntry.objects.bulk_create([
                SearchEntry(kind="case", case=c, title=c.title, snippet=c.problem[:160],
                            category_path=c.category.path, audience=Audience.EVERYONE,
                            tokens=index_tokens(c.title, "\n".join([c.problem, c.handling, c.lessons])))
                for c in cases])
    print(f"Built {args.articles:,} articles and {args.cases:,} cases in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_searchentry")


def queries(args, rng: random.Random) -> list[str]:
    labelled = json.loads((ROOT / "tests/data/knowledge_labelled.json").read_text("utf-8"))
    pool = sentence_pool()
    out = [q["q"] for q in labelled["queries"]] + demo_descriptions()
    while len(out) < args.queries:
        out.append(rng.choice(pool)[: rng.randint(4, 24)] if rng.random() < 0.6 else rng.choice(pool)
                   + rng.choice(pool))
    return out[: args.queries]


def timed(label: str, function, items) -> list[float]:
    for item in items[:10]:  # warm the caches
        function(item)
    times = []
    for item in items:
        started = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"{label:<52}{len(times):>6}{statistics_median(times):>9.1f}{percentile(times, 95):>9.1f}"
          f"{times[-1]:>9.1f}")
    return times


def statistics_median(values):
    import statistics

    return statistics.median(values)


def main(argv=None) -> int:
    args = parse_args(argv)
    db_url = database_url("postgres://postgres@127.0.0.1:5432/complaints_bench_search")
    redis = redis_url("redis://127.0.0.1:6379/8")
    reset_database(db_url)
    flush_redis(redis)
    rng = random.Random(20261201)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        env = server_env(db_url=db_url, redis=redis, var_dir=Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--orders", "0", "--quiet-logins")
        manage(env, "collectstatic", "--noinput")
        django_setup(env)
        from django.db import connection
        from django.test import Client

        from complaints.models import Category
        from knowledge import search, selectors
        from org.models import User

        build(args, rng)
        started = time.perf_counter()
        terms = search.stats_refresh()
        print(f"Token statistics: {terms:,} distinct tokens counted in {time.perf_counter() - started:.1f} s")
        agent = User.objects.get(username="agent_gz")
        families = list(Category.objects.filter(level=1))
        leaves = list(Category.objects.filter(level__gte=3))
        items = queries(args, rng)
        print(f"\n{'kind':<52}{'runs':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        results = {
            "search": timed("search, all documents", lambda q: search.search(user=agent, query=q), items),
            "family": timed("search, narrowed to a category family",
                            lambda q: search.search(user=agent, query=q, family=rng.choice(families)), items),
            "intake": timed("intake suggestions (category + description)",
                            lambda q: selectors.intake_suggestions(user=agent, category=rng.choice(leaves),
                                                                   description=q), items),
        }
        client = Client()
        client.force_login(agent)
        results["page"] = timed("search page (parse, search, render)",
                                lambda q: client.get("/knowledge/", {"q": q}), items[:150])
        hits = [len(search.search(user=agent, query=q)) for q in items]
        print(f"\nQueries with results: {sum(1 for h in hits if h)}/{len(hits)}; "
              f"mean results per query {sum(hits) / len(hits):.1f} (capped at 20)")
        sample = items[0]
        candidates = search._candidate_terms(search._terms(search.query_tokens(sample)))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM knowledge_searchentry WHERE tsv @@ %s::tsquery",
                           [" | ".join(f"'{t.token}'" for t in candidates)])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\nPlan of the candidate lookup for “{sample}”:\n{plan}")
        worst = max(percentile(times, 95) for times in results.values())
        print(f"\nTarget: p95 <= {TARGET_MS:.0f} ms: {'met' if worst <= TARGET_MS else 'MISSED'} "
              f"(worst p95 {worst:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
