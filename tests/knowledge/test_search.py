"""Chinese search in the knowledge base, on whichever database the run uses (the suite runs
on SQLite and on PostgreSQL): ranking, status, keeping the index in step, the GIN index."""

import io

import pytest
from django.db import connection

from knowledge import search, services, similar
from knowledge.models import Article, ArticleStatus
from knowledge.search import query_tokens, search_articles


@pytest.fixture
def articles(manager):
    def make(title, body, status=ArticleStatus.PUBLISHED, **extra):
        return services.article_create(
            user=manager, title=title, body=body, category="faq", status=status, **extra
        )

    return {
        "export": make("账号无法导出月度数据", "点击导出按钮没有反应时，请按以下步骤排查。"),
        "report": make(
            "月度报表说明",
            "月度报表包含订单数量、退款金额和客户评价。需要留存时可以导出为表格文件。"
            "报表每月一日生成，历史报表保留十二个月。",
        ),
        "invoice": make("电子发票开具流程", "订单确认收货后即可申请电子发票。"),
        "draft": make("无法导出的草稿", "无法导出 无法导出", status=ArticleStatus.DRAFT),
    }


def test_the_query_is_cut_into_words():
    assert query_tokens("无法导出") == ["无法", "导出"]
    assert query_tokens("  ") == []


def test_a_chinese_query_ranks_the_title_match_first(articles):
    results = list(search_articles("无法导出"))
    assert [a.title for a in results] == ["账号无法导出月度数据", "月度报表说明"]
    assert results[0].relevance > results[1].relevance > 0
    # Unrelated articles and drafts are not returned.
    assert articles["invoice"] not in results and articles["draft"] not in results


def test_drafts_are_found_when_asked_for(articles):
    titles = [a.title for a in search_articles("无法导出", status=None)]
    assert "无法导出的草稿" in titles and "电子发票开具流程" not in titles


def test_tags_and_summary_are_searched(manager):
    article = services.article_create(
        user=manager, title="退款说明", body="见正文。", category="faq", tags="支付宝,原路退回",
        summary="退款原路退回到支付账户", status=ArticleStatus.PUBLISHED,
    )  # fmt: skip
    assert list(search_articles("支付宝")) == [article]


def test_an_empty_or_meaningless_query_finds_nothing(articles):
    assert list(search_articles("")) == []
    assert list(search_articles("的了吗")) == []


def test_the_index_follows_edits_and_deletions(articles, manager):
    export = articles["export"]
    services.article_update(article=export, user=manager, title="数据下载说明", body="下载步骤。")
    assert export not in search_articles("无法导出")
    assert list(search_articles("下载")) == [export]
    Article.objects.filter(pk=export.pk).delete()
    assert list(search_articles("下载")) == []


def test_search_text_weighs_the_title(articles):
    export = Article.objects.get(pk=articles["export"].pk)
    assert export.search_text.split().count("导出") >= 4


@pytest.mark.postgres
def test_postgresql_search_uses_the_gin_index(articles):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite uses its FTS5 table")
    # Tiny test tables make any plan cheap; rule out the full scans (a sequential scan, or a
    # walk of the primary-key index) so the planner shows which index serves the match.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
    try:
        plan = search_articles("无法导出", status=None).explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = on; SET enable_indexscan = on")
    assert "Bitmap Index Scan on article_search_gin" in plan


def test_sqlite_search_uses_fts5(articles):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM knowledge_article_fts")
        assert cursor.fetchone()[0] == Article.objects.count()
    assert "knowledge_article_fts" in str(search_articles("无法导出").query)


def test_reindex_command_refreshes_stale_tokens(articles):
    from django.core.management import call_command

    out = io.StringIO()
    export = articles["export"]
    Article.objects.filter(pk=export.pk).update(search_text="过期 词语")
    assert export not in search_articles("无法导出")
    call_command("knowledge_reindex", stdout=out)
    assert "1 articles reindexed" in out.getvalue()
    assert search_articles("无法导出")[0] == export


def test_sqlite_without_fts5_falls_back_to_word_matching(articles, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    monkeypatch.setattr(search, "_sqlite_has_fts", lambda connection, fts_table: False)
    results = list(search_articles("无法导出"))
    assert [a.title for a in results] == ["账号无法导出月度数据", "月度报表说明"]
    assert "knowledge_article_fts" not in str(search_articles("无法导出").query)


def test_sqlite_triggers_come_back_after_a_migration_rebuilds_the_table(articles):
    """SQLite rebuilds a table on most ALTERs and drops its triggers; post_migrate puts them
    back (and refills the index), so search keeps working after any later migration."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    from knowledge.fts import ensure_sqlite_triggers

    with connection.cursor() as cursor:
        for suffix in ("insert", "delete", "update"):
            cursor.execute(f"DROP TRIGGER knowledge_article_fts_{suffix}")
    Article.objects.filter(pk=articles["export"].pk).update(search_text="过期 词语")
    ensure_sqlite_triggers(using=connection.alias)
    Article.objects.filter(pk=articles["export"].pk).update(search_text="账号 无法 导出 月度 数据")
    assert search_articles("无法导出")[0] == Article.objects.get(pk=articles["export"].pk)


def _like_articles(query, limit=5):
    """The published articles most like `query` (knowledge.similar), best first."""
    return similar.more_like_this(
        Article.objects.filter(status=ArticleStatus.PUBLISHED), query,
        fts_table=search.FTS_TABLE, index_name="article_search_gin", title_field="title",
        limit=limit,
    )  # fmt: skip


@pytest.mark.postgres
def test_the_word_statistics_are_read_once_in_a_while(articles, monkeypatch):
    """The planner's word statistics change only when ANALYZE runs, so each process reads
    them at most once in STATISTICS_SECONDS: the next case page or suggestions skip that
    statement, and the same articles come back."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    from django.test.utils import CaptureQueriesContext

    def suggest():
        with CaptureQueriesContext(connection) as queries:
            found = _like_articles("导出月度数据没有反应")
        reads = [q["sql"] for q in queries.captured_queries if "pg_stats" in q["sql"]]
        return [a.pk for a in found], len(reads), len(queries.captured_queries)

    first, first_reads, first_total = suggest()
    again, again_reads, again_total = suggest()
    assert first and first == again
    assert (first_reads, again_reads) == (1, 0)
    assert again_total == first_total - 1
    # Once the time is up they are read again.
    monkeypatch.setattr(similar, "STATISTICS_SECONDS", 0)
    similar._statistics.clear()
    suggest()
    assert suggest()[1] == 1


@pytest.mark.postgres
def test_a_common_word_alone_is_looked_for_among_the_newest_rows(manager, monkeypatch):
    """At a million rows, when no two picking words share a row (a case's own number and
    咨询, which one case in twenty holds), rows holding 咨询 alone are looked for among the
    newest COMMON_WINDOW rows, newest first, by their stored words: a row holding 咨询台 does
    not hold 咨询, a draft is not asked for, and older rows are not read."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")

    def make(title, status=ArticleStatus.PUBLISHED):
        return services.article_create(
            user=manager, title=title, body="请按流程办理。", category="faq", status=status
        )

    old = [make(f"咨询{topic}的办理流程") for topic in ("退款", "发票", "积分")]
    draft = make("咨询退货的草稿", status=ArticleStatus.DRAFT)
    newer = make("咨询换货的办理流程")
    desk = make("咨询台的位置")
    newest = make("咨询维修的办理流程")
    assert [a.pk for a in old] + [draft.pk, newer.pk, desk.pk, newest.pk] == list(
        range(old[0].pk, old[0].pk + 7)
    )
    # What PostgreSQL's statistics would say of a million articles: 咨询 in 6 % of them,
    # the query's number in none listed (rare).
    key = (connection.alias, connection.settings_dict["NAME"], "article_search_gin")
    similar._statistics[key] = (float("inf"), (1_000_000, {"咨询": 0.06}, 0.0001))
    monkeypatch.setattr(similar, "COMMON_WINDOW", newest.pk - draft.pk)

    def suggest():
        return [a.title for a in _like_articles("咨询 20261204", limit=10)]

    assert suggest() == ["咨询维修的办理流程", "咨询换货的办理流程"]
    everywhere = sorted([a.title for a in old] + [newer.title, newest.title])
    # With a window over every row, the older ones are found too.
    monkeypatch.setattr(similar, "COMMON_WINDOW", 100)
    assert sorted(suggest()) == everywhere
    # A word in 1 % of a million rows (10,000) is read through the full-text index: every row.
    monkeypatch.setattr(similar, "COMMON_WINDOW", newest.pk - draft.pk)
    similar._statistics[key] = (float("inf"), (1_000_000, {"咨询": 0.01}, 0.0001))
    assert sorted(suggest()) == everywhere
