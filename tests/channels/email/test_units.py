"""The pieces without servers: MIME reading, subjects, configuration, passwords, schema, IMAP helpers."""

from __future__ import annotations

import keyring
import keyring.core
import pytest

from agent_assist.channels.email import config as email_config
from agent_assist.channels.email import mime, schema
from agent_assist.channels.email.config import MailboxConfig, get_password, set_password
from agent_assist.channels.email.imap_client import _internaldate, _records, encode_folder, uid_set
from agent_assist.channels.email.smtp_send import _quote_data
from agent_assist.channels.email.threading import normalize_subject, strip_prefixes
from agent_assist.settings import _contains_secret
from agent_assist.store import Store
from agent_assist.store.migrations import MIGRATIONS
from tests.channels.email import mails


# -- MIME ----------------------------------------------------------------------------------------------
def test_plain_mail_headers_and_body():
    raw = mails.plain(sender="=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg@Example.DE>", subject="AW: Rückerstattung",
                      message_id="<Abc@HOST.Example>", references="<a@x> <b@y>", in_reply_to="<b@y>")
    p = mime.parse(raw)
    assert (p.from_name, p.from_addr) == ("Jörg Müller", "joerg@example.de")
    assert p.subject == "AW: Rückerstattung" and p.message_id == "<Abc@host.example>"
    assert p.references == ("<a@x>", "<b@y>") and p.in_reply_to == ("<b@y>",)
    assert p.readable and p.notes == () and "charged a late fee" in p.text


def test_charset_lies_and_unknown_charsets_are_read_with_a_note():
    latin_declared_utf8_written = (b"From: a@b.example\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
                                   b"caf\xc3\xa9 na\xc3\xafve\r\n")
    p = mime.parse(latin_declared_utf8_written)
    assert p.text == "café naïve" and "written in UTF-8" in p.notes[0]
    p = mime.parse(b"From: a@b.example\r\nContent-Type: text/plain; charset=x-nope\r\n\r\nhell\xe9\r\n")
    assert p.text == "hellé" and any("unknown character set" in n for n in p.notes)
    p = mime.parse(b"From: a@b.example\r\nContent-Type: text/plain; charset=base64\r\n\r\naGVsbG8=\r\n")
    assert p.text == "aGVsbG8=" and any("unknown character set" in n for n in p.notes)  # codecs are not charsets
    p = mime.parse(b"From: a@b.example\r\nSubject: \xe4\xf6\xfc\r\n\r\nx\r\n")  # raw 8-bit legacy header
    assert p.subject == "äöü"


def test_rfc2231_and_encoded_filenames_are_cleaned():
    assert mime.safe_filename("../../etc/passwd", "text/plain", 1) == "passwd"
    assert mime.safe_filename("C:\\Windows\\evil.exe", "application/octet-stream", 1) == "evil.exe"
    assert mime.safe_filename("..\x00.bashrc", "text/plain", 1) == "_.bashrc"
    assert mime.safe_filename("CON.txt", "text/plain", 1) == "_CON.txt"
    assert mime.safe_filename("", "image/png", 3) == "attachment-3.png"
    assert len(mime.safe_filename("x" * 500 + ".pdf", "application/pdf", 1)) <= 150
    assert mime.safe_filename("x" * 500 + ".pdf", "application/pdf", 1).endswith(".pdf")
    assert mime.is_risky("invoice.pdf.exe", "application/pdf") and mime.is_risky("x.bin", "text/html")
    assert not mime.is_risky("receipt.pdf", "application/pdf")


def test_every_bad_mail_parses_without_raising():
    for name, raw in mails.bad_mails().items():
        p = mime.parse(raw)
        assert p.message_id.startswith("<"), name
        assert isinstance(p.text, str), name
        assert "\x00" not in p.text and "\x00" not in p.subject, name


def test_an_unreadable_message_keeps_the_original_as_an_attachment():
    p = mime.parse(mails.bad_mails()["deeply_nested"])
    assert not p.readable and "could not be shown" in p.text
    assert [a.filename for a in p.attachments] == ["original-message.eml"]
    assert p.from_addr == "deep@example.com" and p.subject == "deep"


def test_messages_without_message_id_get_a_stable_one():
    raw = b"From: a@b.example\r\nSubject: none\r\n\r\nbody\r\n"
    assert mime.parse(raw).message_id == mime.parse(raw).message_id
    assert not mime.parse(raw).has_message_id
    assert mime.parse(raw).message_id != mime.parse(raw + b"more").message_id


def test_auto_replies_are_recognised():
    raw = mails.plain(extra={"Auto-Submitted": "auto-replied"})
    assert mime.parse(raw).auto_submitted
    assert not mime.parse(mails.plain()).auto_submitted


def test_huge_html_is_shown_as_text():
    html = "<p>" + "word " * 1_200_000 + "</p>"
    raw = (b"From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html.encode())
    p = mime.parse(raw, mime.Limits(max_html_bytes=1_000_000))
    assert p.html is None and p.text.startswith("word word") and any("too large" in n for n in p.notes)


def test_message_id_lists():
    assert mime.message_ids("<a@X> junk <b@y>  <a@x>") == ["<a@x>", "<b@y>"]
    assert mime.message_ids("bare@host.example") == ["<bare@host.example>"]
    assert mime.message_ids("") == [] and mime.normalize_message_id(None) is None


# -- subjects ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("subject", "expected"), [
    ("Re: AW: [EXT] Refund please", "refund please"),
    ("SV: VS: Fwd: RV: TR: Hello", "hello"),
    ("Re[2]: Re(3): Order", "order"),
    ("Antw: WG: Rechnung", "rechnung"),
    ("ΑΠ: Επιστροφή", "επιστροφή"),
    ("回复：退款", "退款"),
    ("Retour produit", "retour produit"),
    ("Re:", ""),
])
def test_normalize_subject(subject, expected):
    assert normalize_subject(subject) == expected


def test_strip_prefixes_keeps_case():
    assert strip_prefixes("AW: Re: Rückerstattung Bestellung") == "Rückerstattung Bestellung"


# -- configuration and passwords -----------------------------------------------------------------------
def test_unencrypted_connections_only_to_this_computer():
    box = MailboxConfig(imap_host="imap.example.com", imap_user="s@example.com", imap_tls="none")
    assert any("only allowed to this computer" in p for p in box.problems())
    assert box.with_(imap_host="127.0.0.1", smtp_host="127.0.0.1", smtp_tls="none").problems() == []
    assert MailboxConfig(imap_host="imap.example.com", imap_user="s@example.com").problems() == []
    with pytest.raises(ValueError):
        box.check()


def test_config_round_trips_through_settings_without_secrets():
    box = MailboxConfig(imap_host="imap.example.com", imap_user="support@example.com",
                        from_address="Support <support@example.com>", server_files_sent=True)
    data = box.to_dict()
    assert MailboxConfig.from_dict({**data, "unknown_future_key": 1}) == box
    assert not _contains_secret({"email": data})  # the settings file would accept it
    assert box.imap_account == "imap:support@example.com@imap.example.com"
    assert box.key == "support@example.com@imap.example.com"


@pytest.fixture
def plaintext_keyring(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    keyring.core.init_backend()
    monkeypatch.delenv(email_config.IMAP_ENV, raising=False)
    monkeypatch.delenv(email_config.SMTP_ENV, raising=False)
    return keyring.get_keyring()


def test_passwords_live_in_the_keyring(plaintext_keyring):
    box = MailboxConfig(imap_host="imap.example.com", imap_user="support@example.com")
    assert get_password(box) is None
    set_password(box, "imap-pw")
    assert plaintext_keyring.get_password("agent-assist", "imap:support@example.com@imap.example.com") == "imap-pw"
    assert get_password(box) == "imap-pw"
    assert get_password(box, "smtp") == "imap-pw"  # the same login unless told otherwise
    set_password(box, "smtp-pw", kind="smtp")
    assert get_password(box, "smtp") == "smtp-pw"
    email_config.delete_password(box)
    assert get_password(box) is None


def test_environment_fallback_is_read_never_written(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    keyring.core.init_backend()
    box = MailboxConfig(imap_host="imap.example.com", imap_user="support@example.com")
    monkeypatch.setenv(email_config.IMAP_ENV, "from-env")
    assert get_password(box) == "from-env"
    with pytest.raises(email_config.SecretStoreUnavailable):
        set_password(box, "x")


# -- schema --------------------------------------------------------------------------------------------
def test_schema_migrates_an_existing_database(tmp_path):
    full = list(MIGRATIONS) if schema.migrate in MIGRATIONS else [*MIGRATIONS, schema.migrate]
    path = tmp_path / "old.db"
    Store(path, migrations=full[: full.index(schema.migrate)]).close()  # a database from before the channel
    store = Store(path, migrations=full)
    assert store.schema_version() == len(full)
    tables = set(store.db.table_names())
    assert {"email_sync_state", "email_uids", "email_messages", "email_blobs", "email_attachments",
            "email_outbox"} <= tables
    store.close()


# -- protocol helpers ----------------------------------------------------------------------------------
def test_folder_names_and_uid_sets():
    assert encode_folder("INBOX") == "INBOX"
    assert encode_folder("Gesendete Elemente") == "Gesendete Elemente"
    assert encode_folder("Übersicht & Co") == "&ANw-bersicht &- Co"
    assert encode_folder("台北") == "&U,BTFw-"  # RFC 3501's own example
    assert uid_set([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10" and uid_set([5]) == "5"


def test_fetch_records_and_internaldate():
    data = [(b'1 (UID 7 RFC822.SIZE 5 INTERNALDATE " 2-Mar-2026 10:00:00 +0100" BODY[] {5}', b"hello"), b")",
            (b'2 (BODY[] {3}', b"abc"), b" UID 8)", b"3 (FLAGS (\\Seen))"]
    recs = list(_records(data))
    assert recs[0][1] == b"hello" and b"UID 7" in recs[0][0]
    assert recs[1][1] == b"abc" and b"UID 8" in recs[1][0]
    assert recs[2] == (b"3 (FLAGS (\\Seen))", None)
    assert _internaldate(recs[0][0]) == "2026-03-02T09:00:00Z"


def test_data_transparency():
    assert _quote_data(b"a\r\n.b\r\n..c") == b"a\r\n..b\r\n...c\r\n"
    assert _quote_data(b".start\nlf only") == b"..start\r\nlf only\r\n"
