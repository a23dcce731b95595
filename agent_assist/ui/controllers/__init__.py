"""The window's workflows, one controller each; :class:`~agent_assist.ui.main_window.MainWindow` composes them.

Like napari's ``components/`` beside ``_qt/`` (and Anki's operations beside ``aqt/main.py``): the
window builds the widgets, the menus and the shortcuts and routes each action to one controller
method; the controller does the work, owns its background jobs (keys in the window's
:class:`~agent_assist.ui.tasks.TaskManager`) and drops them in ``stop()`` when the window closes.

Which file handles which shortcut:

==============================================  ===============================================
Ctrl+D draft with AI, Esc stop, Rewrite menu,    ``controllers/drafting.py`` (DraftingController)
Ctrl+T translate, Ctrl+Shift+U summarize,
Ctrl+Shift+T model triage, Ctrl+Shift+G
regenerate, Ctrl+Return / Ctrl+Enter approve &
send (card number, four eyes, someone else's
reply), the reply kept on this desk
Ctrl+Shift+V supervisor review                   ``controllers/review.py`` (ReviewController)
Mail → Pause/Resume, Send waiting replies now    ``controllers/mail.py`` (MailController)
Knowledge search (Ctrl+K focuses it), articles,  ``controllers/knowledge.py`` (KnowledgeController)
Knowledge → Import files… / a folder…
Ctrl+Shift+M assign to me, Ctrl+Shift+S solved,  ``controllers/thread.py`` (ThreadController)
links and attachments in a message, the open
thread re-read after a change (F5, live poll)
Ctrl+Shift+N take next ticket, presence          ``team_work.py`` (TeamWork)
Alt+Up/Down, Ctrl+L, Ctrl+F, Ctrl+R, Ctrl+I,     ``main_window.py`` (the window itself: moving in
Ctrl+K, F5 refresh, Ctrl+Shift+Q dashboard,      the queue, focus, side windows, preferences,
Ctrl+Shift+P team, Ctrl+, preferences, F1        help)
==============================================  ===============================================
"""
