"""Knowledge: searching, reading and importing help-centre articles, and noticing when they change.

Shortcuts and menu entries that land here:

- typing in the knowledge search (Ctrl+K focuses it; the panel debounces) → :meth:`KnowledgeController.search`
- a result, a suggestion or a citation in the reply clicked → :meth:`load_article`
- Knowledge → Import files… / Import a folder… → :meth:`import_files` / :meth:`import_folder`
  (both end in :meth:`import_paths`, which shows the progress dialog)

(Ctrl+I "Insert snippet" is the knowledge panel's own, wired straight to the reply panel.)

It owns the jobs keyed ``kb-search`` and ``kb-article`` and the article fingerprint: the window's
live poll calls :meth:`follow_changes`, which re-reads the article ids the reply's citations are
checked against and the locale/section filters only when an article was added, changed or removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from agent_assist.knowledge import search as kb_search
from agent_assist.knowledge.articles import all_ids as all_article_ids
from agent_assist.knowledge.articles import fingerprint as article_fingerprint
from agent_assist.knowledge.articles import get_article
from agent_assist.assist.similar_tickets import article_draft
from agent_assist.store import StoreError, article_drafts, people
from agent_assist.store.review import is_supervisor
from agent_assist.ui.article_drafts_dialog import ArticleDraftsDialog, ProposeArticleDialog
from agent_assist.ui.kb_import import KnowledgeImport

if TYPE_CHECKING:
    from agent_assist.ui.main_window import MainWindow

JOB_KEYS = ("kb-search", "kb-article")


class KnowledgeController(QObject):
    searchShown = Signal(str)
    """Knowledge results for this query are on screen."""

    def __init__(self, mw: MainWindow):
        super().__init__(mw)
        self.mw = mw
        self.store = mw.store
        self.tasks = mw.tasks
        self.panel = mw.knowledge
        self.kb_import: KnowledgeImport | None = None
        self._articles_seen = None

    def load(self) -> None:
        """At start: remember the articles' fingerprint, give the reply panel the ids, fill the filters."""
        self._articles_seen = article_fingerprint(self.store.db)
        self.mw.draft.known_articles = all_article_ids(self.store.db)
        self.refresh_filters()

    def follow_changes(self) -> bool:
        """Something committed: follow the articles if they changed. False when the store could not say."""
        try:
            seen = article_fingerprint(self.store.db)
        except StoreError as exc:  # e.g. the server went away between two polls
            self.mw.statusBar().showMessage(str(exc), 8000)
            return False  # most changes are to tickets: skip re-reading 50k ids
        if seen != self._articles_seen:
            self._articles_seen = seen
            self.mw.draft.known_articles = all_article_ids(self.store.db)
            self.refresh_filters()
            self.mw.meaning.reindex()
        return True

    def search(self, query: str, locale: str | None = None, section: str | None = None) -> None:
        def done(hits) -> None:
            self.panel.show_results(query, hits)
            self.searchShown.emit(query)

        db = self.mw.kb_sync.db  # a team desk's replica (instant, offline), or the desk's own file
        self.tasks.run(lambda: kb_search.search(db(), query, locale=locale, section=section, limit=30),
                       done, self.mw._show_error, key="kb-search", owner=self)

    def refresh_filters(self) -> None:
        self.panel.set_filter_choices(kb_search.locales(self.store.db), kb_search.sections(self.store.db))

    def load_article(self, article_id: int) -> None:
        self.tasks.run(lambda: get_article(self.mw.kb_sync.db(), article_id), self.panel.show_article,
                       self.mw._show_error, key="kb-article", owner=self)

    def import_paths(self, paths: list[str]) -> KnowledgeImport | None:
        """Import (or re-import) these files/folders with a progress dialog; returns the running import."""
        if not paths:
            return None
        mw = self.mw
        job = KnowledgeImport(self.store, self.tasks, paths, actor=mw.user, parent=mw)
        job.finished.connect(lambda report: mw.statusBar().showMessage(report.summary(), 10000))
        job.finished.connect(lambda _r: mw.poll_changes())
        job.finished.connect(lambda _r: mw.meaning.reindex())  # the new and changed articles, by meaning too
        job.cancelled.connect(lambda: mw.statusBar().showMessage(
            "Import cancelled; the knowledge base is as it was.", 8000))
        self.kb_import = job
        return job

    def import_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self.mw, "Import knowledge", "", "Knowledge (*.md *.markdown *.html *.htm *.txt *.csv *.json *.jsonl);;"
                                             "All files (*)")
        self.import_paths(paths)

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.mw, "Import a folder of articles")
        self.import_paths([folder] if folder else [])

    def propose_article(self, example) -> None:
        """A solved ticket's answer, edited by the agent, proposed as an article for a supervisor."""
        dialog = ProposeArticleDialog(article_draft(example), self.mw)
        if dialog.exec() != ProposeArticleDialog.DialogCode.Accepted:
            return
        values, user = dialog.values(), self.mw.user
        self.tasks.run(lambda: article_drafts.propose(self.store, values, ticket_id=example.ticket_id, actor=user),
                       lambda _id: self.mw.statusBar().showMessage(
                           "Article draft proposed: a supervisor publishes it (Knowledge → Article drafts…).", 10000),
                       self.mw._show_error, owner=self)

    def show_article_drafts(self) -> None:
        supervisor = is_supervisor(people.role_of(self.store.db, self.mw.user))
        ArticleDraftsDialog(self.store, user=self.mw.user, supervisor=supervisor, parent=self.mw).exec()
        self.mw.poll_changes()  # a published article is in the knowledge base now

    def stop(self) -> None:
        """The window closes: drop late search and article results."""
        self.tasks.cancel(*JOB_KEYS)
