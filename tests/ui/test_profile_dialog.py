"""The start dialog offers the supervisor role only while the database has none."""

from __future__ import annotations

from agent_assist.store.people import Profile
from agent_assist.ui.profile_dialog import NEW, ProfileDialog


def _roles(dialog: ProfileDialog) -> list[str]:
    return [dialog.role.itemData(i) for i in range(dialog.role.count())]


def test_a_new_profile_is_an_agent_once_a_supervisor_exists(qtbot):
    d = ProfileDialog([Profile("priya", "supervisor"), Profile("alex", "agent")], "mallory")
    qtbot.addWidget(d)
    assert d.profile_box.currentData() == NEW
    assert _roles(d) == ["agent"]
    assert d.choice() == ("mallory", "agent")
    assert "supervisor changes roles" in d.role_note.text()


def test_the_first_profile_of_an_empty_database_may_be_a_supervisor(qtbot):
    d = ProfileDialog([], "lee", allow_supervisor=True)
    qtbot.addWidget(d)
    assert _roles(d) == ["agent", "supervisor"]
    d.role.setCurrentIndex(d.role.findData("supervisor"))
    assert d.choice() == ("lee", "supervisor")
