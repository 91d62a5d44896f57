"""Round trips through framework.db.repository, on SQLite and PostgreSQL (the `db` fixture)."""
from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from framework import alerts
from framework.db import repository as repo
from framework.db.codes import ALPHABET, format_code
from framework.db.models import Answer, AuditEntry, Invite, OutboxEmail, Pupil, SafeguardingAlert, TranscriptMessage, utcnow

MATCHES = [
    {"statement_id": "york.safe.1", "area_id": "safe", "area_title": "Being safe", "score": 0.8},
    {"statement_id": "york.happy.2", "area_id": "happy", "area_title": "Being happy", "score": 0.4},
]


def reloaded(db, obj):
    """The row as stored: commit, forget everything loaded, read it again."""
    db.commit()
    db.expire_all()
    return db.get(type(obj), obj.id)


@pytest.fixture
def school(db):
    return repo.create_school(db, "Oak Primary", urn="100001")


@pytest.fixture
def dsl(db, school):
    return repo.create_staff(db, "DSL@Oak.example.org ", "$argon2id$v=19$hash", "dsl", school)


@pytest.fixture
def pupil(db, school):
    return repo.create_pupil(db, school, "Sam Smith", year_group="Year 5", class_name="Willow")


@pytest.fixture
def invite(db, pupil, dsl):
    return repo.create_invite(db, pupil, "york", created_by=dsl)


@pytest.fixture
def check_in(db, invite):
    return repo.start_or_resume_session(db, invite).session


# ---- people ---------------------------------------------------------------------------


def test_staff_round_trip_and_email_is_unique_whatever_the_case(db, school, dsl):
    stored = reloaded(db, dsl)
    assert (stored.email, stored.role, stored.school_id) == ("dsl@oak.example.org", "dsl", school.id)
    assert stored.active and stored.failed_logins == 0 and stored.locked_until is None
    assert repo.find_staff_by_email(db, " dsl@OAK.example.org") == stored
    with pytest.raises(sa.exc.IntegrityError):
        repo.create_staff(db, "dsl@oak.example.org", "h", "senco", school)


def test_staff_roles_are_checked_and_only_school_roles_need_a_school(db, school):
    with pytest.raises(ValueError, match="role"):
        repo.create_staff(db, "x@example.org", "h", "teacher", school)
    officer = repo.create_staff(db, "la@example.org", "h", "la_officer")
    assert reloaded(db, officer).school_id is None
    with pytest.raises(sa.exc.IntegrityError):
        repo.create_staff(db, "senco@example.org", "h", "senco")


def test_pupils_get_a_random_pseudonymous_ref(db, school, pupil):
    other = repo.create_pupil(db, school, "Alex Jones")
    stored = reloaded(db, pupil)
    assert (stored.display_name, stored.year_group, stored.class_name) == ("Sam Smith", "Year 5", "Willow")
    assert len(stored.pupil_ref) == 24 and stored.pupil_ref != other.pupil_ref
    assert "Sam" not in stored.pupil_ref


def test_times_come_back_aware_and_in_utc(db, school):
    created = reloaded(db, school).created_at
    assert created.tzinfo == timezone.utc
    assert abs(utcnow() - created) < timedelta(minutes=1)


# ---- invites ---------------------------------------------------------------------------


def test_invite_round_trip_and_code_forgives_how_it_is_typed(db, pupil, dsl, invite):
    stored = reloaded(db, invite)
    assert len(stored.code) == 8 and set(stored.code) <= set(ALPHABET)
    assert (stored.framework_id, stored.perspective, stored.question_set) == ("york", "children_young_people", "standard")
    assert (stored.pupil_id, stored.school_id, stored.created_by_id) == (pupil.id, pupil.school_id, dsl.id)
    typed = f"  {format_code(stored.code).lower().replace('-', ' - ')} "
    assert repo.find_invite_by_code(db, typed) == stored
    assert repo.find_invite_by_code(db, "ZZZZ-ZZZZ") is None
    assert repo.find_invite_by_code(db, "not a code") is None


def test_invites_expire(db, pupil):
    now = utcnow()
    invite = repo.create_invite(db, pupil, "york", valid_for=timedelta(days=1), now=now)
    assert not invite.is_expired(now + timedelta(hours=23))
    assert reloaded(db, invite).is_expired(now + timedelta(days=1))


def test_a_new_invite_never_reuses_a_code(db, pupil, invite, monkeypatch):
    offered = iter([invite.code, invite.code, "NEWC9DE2"])
    monkeypatch.setattr(repo, "generate_code", lambda: next(offered))
    assert repo.create_invite(db, pupil, "york").code == "NEWC9DE2"
    # And the database itself refuses a duplicate.
    db.add(Invite(code=invite.code, pupil_id=pupil.id, school_id=pupil.school_id, framework_id="york",
                  expires_at=utcnow()))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()


def test_invite_question_set_is_checked(db, pupil):
    with pytest.raises(ValueError, match="question_set"):
        repo.create_invite(db, pupil, "york", question_set="long")


# ---- sessions --------------------------------------------------------------------------


def test_a_session_starts_from_an_invite_with_server_made_ids(db, invite):
    start = repo.start_or_resume_session(db, invite)
    stored = reloaded(db, start.session)
    assert not start.resumed
    assert (stored.status, stored.framework_id, stored.question_set, stored.pupil_id) == (
        "active", "york", "standard", invite.pupil_id)
    assert len(stored.sender_id) == 32 and len(start.token) >= 40
    assert start.token not in stored.token_hash
    assert repo.find_session_by_token(db, start.token) == stored
    assert repo.find_session_by_sender(db, stored.sender_id) == stored
    assert repo.find_session_by_token(db, "guessed") is None


@pytest.mark.parametrize("ended", ["finished", "stopped"])
def test_a_code_starts_nothing_once_its_checkin_is_over(db, invite, check_in, ended):
    repo.set_status(db, check_in, ended)
    assert reloaded(db, check_in).finished_at is not None
    assert repo.start_or_resume_session(db, invite) is None
    assert db.scalar(select(sa.func.count()).select_from(repo.SurveySession)) == 1


def test_picking_a_checkin_up_again_with_its_code_is_audited(db, invite, pupil):
    first = repo.start_or_resume_session(db, invite)
    assert repo.resumes(db, pupil) == {}
    repo.set_status(db, first.session, "paused")
    repo.start_or_resume_session(db, invite)
    repo.start_or_resume_session(db, invite)  # e.g. someone else with the code, on another device
    db.commit()
    resumed = repo.resumes(db, pupil)
    assert list(resumed) == [first.session.id] and len(resumed[first.session.id]) == 2
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == repo.RESUMED)).all()
    assert {(e.actor_id, e.object_id, e.pupil_id) for e in entries} == {(None, str(first.session.id), pupil.id)}


def test_a_break_resumes_the_same_session_with_a_new_token(db, invite):
    first = repo.start_or_resume_session(db, invite)
    repo.set_position(db, first.session, "question:york.safe.1")
    repo.set_status(db, first.session, "paused")
    db.commit()
    again = repo.start_or_resume_session(db, invite)
    assert again.resumed and again.session.id == first.session.id
    stored = reloaded(db, again.session)
    assert (stored.status, stored.position, stored.finished_at) == ("active", "question:york.safe.1", None)
    assert repo.find_session_by_token(db, first.token) is None
    assert repo.find_session_by_token(db, again.token) == stored


def test_preferences_are_stored_and_checked(db, check_in):
    repo.save_preferences(db, check_in, input_mode="type", read_aloud=True, question_set="core", who_with="with_support")
    repo.save_preferences(db, check_in, input_mode="tap")  # the others stay
    stored = reloaded(db, check_in)
    assert (stored.input_mode, stored.read_aloud, stored.question_set, stored.who_with) == (
        "tap", True, "core", "with_support")
    for bad in ({"input_mode": "voice"}, {"who_with": "mum"}, {"question_set": "all"}):
        with pytest.raises(ValueError):
            repo.save_preferences(db, check_in, **bad)


# ---- answers and comments ------------------------------------------------------------------


def test_answers_record_how_they_were_given(db, check_in):
    repo.save_preferences(db, check_in, read_aloud=True, who_with="answered_for_me")
    answer = repo.record_answer(db, check_in, "york.safe.1", "safe", "sometimes", "typed",
                                words="sumtimes i fel safe", confidence=0.72)
    stored = reloaded(db, answer)
    assert (stored.value, stored.method, stored.words, stored.confidence) == (
        "sometimes", "typed", "sumtimes i fel safe", pytest.approx(0.72))
    assert (stored.read_aloud, stored.who_answered, stored.is_current) == (True, "answered_for_me", True)
    with pytest.raises(ValueError, match="value"):
        repo.record_answer(db, check_in, "york.safe.2", "safe", "maybe", "tapped")


def test_changing_an_answer_at_read_back_keeps_the_original(db, check_in):
    first = repo.record_answer(db, check_in, "york.safe.1", "safe", "no", "tapped")
    repo.record_answer(db, check_in, "york.happy.1", "happy", "yes", "tapped")
    changed = repo.record_answer(db, check_in, "york.safe.1", "safe", "yes", "tapped")
    db.commit()
    db.expire_all()
    assert [(a.statement_id, a.value) for a in repo.current_answers(db, check_in)] == [
        ("york.happy.1", "yes"), ("york.safe.1", "yes")]
    original = db.get(Answer, first.id)
    assert original.value == "no" and not original.is_current and original.superseded_at is not None
    assert db.get(Answer, changed.id).replaces_id == first.id


def test_the_database_allows_one_current_answer_per_statement(db, check_in):
    repo.record_answer(db, check_in, "york.safe.1", "safe", "no", "tapped")
    db.add(Answer(session_id=check_in.id, statement_id="york.safe.1", area_id="safe", value="yes",
                  method="tapped", read_aloud=False))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()


def test_comments_keep_exact_words_and_their_mappings(db, check_in):
    words = "I don't feel safe at playtime  when it's loud!!"
    comment = repo.record_comment(db, check_in, "safe", "anything_else", words, MATCHES)
    stored = reloaded(db, comment)
    assert (stored.text, stored.kind, stored.area_id) == (words, "anything_else", "safe")
    assert [(m.statement_id, m.area_id, m.score) for m in stored.mappings] == [
        ("york.safe.1", "safe", pytest.approx(0.8)), ("york.happy.2", "happy", pytest.approx(0.4))]
    assert repo.record_comment(db, check_in, "safe", "what_would_help", "nothing").mappings == []
    with pytest.raises(ValueError, match="kind"):
        repo.record_comment(db, check_in, "safe", "other", "x")


# ---- transcript --------------------------------------------------------------------------


def test_a_double_submitted_message_is_stored_once(db, check_in, invite):
    first, created = repo.add_message(db, check_in, "in", "yes", client_message_id="c-1")
    again, created_again = repo.add_message(db, check_in, "in", "yes", client_message_id="c-1")
    assert created and not created_again and again.id == first.id
    # The same client id in another session, or no id at all, is a new message.
    other = repo.start_or_resume_session(db, repo.create_invite(db, invite.pupil, "york")).session
    assert repo.add_message(db, other, "in", "yes", client_message_id="c-1")[1]
    assert repo.add_message(db, check_in, "out", "Thank you.", payload={"buttons": []})[1]
    assert repo.add_message(db, check_in, "out", "Thank you.")[1]
    db.commit()
    assert db.scalar(select(sa.func.count(TranscriptMessage.id)).where(TranscriptMessage.session_id == check_in.id)) == 3


def test_a_message_stored_by_a_racing_request_is_returned_not_duplicated(db, check_in, monkeypatch):
    stored, _ = repo.add_message(db, check_in, "in", "hello", client_message_id="c-9")
    db.commit()
    # The other request inserted between our look-up and our insert: the look-up saw nothing.
    real_lookup = repo._message_by_client_id
    calls = []

    def late_lookup(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_lookup(*args)

    monkeypatch.setattr(repo, "_message_by_client_id", late_lookup)
    message, created = repo.add_message(db, check_in, "in", "hello", client_message_id="c-9")
    assert (message.id, created, len(calls)) == (stored.id, False, 2)
    repo.add_message(db, check_in, "in", "still works")  # the transaction survived the clash
    db.commit()


def test_incoming_messages_wait_for_rasa_until_delivered(db, check_in):
    first, _ = repo.add_message(db, check_in, "in", "one")
    second, _ = repo.add_message(db, check_in, "in", "two")
    repo.add_message(db, check_in, "out", "reply")
    assert repo.undelivered_messages(db, check_in) == [first, second]
    repo.mark_delivered(db, first)
    assert repo.undelivered_messages(db, check_in) == [second]
    assert reloaded(db, first).delivered_at is not None


def test_the_replies_to_a_message_end_at_the_next_message_in(db, check_in):
    first, _ = repo.add_message(db, check_in, "in", "yes")
    replies = [repo.add_message(db, check_in, "out", text)[0] for text in ("You said: yes.", "Next question?")]
    second, _ = repo.add_message(db, check_in, "in", "no")
    last, _ = repo.add_message(db, check_in, "out", "You said: no.")
    assert repo.replies_to(db, first) == replies
    assert repo.replies_to(db, second) == [last]
    assert repo.recent_messages(db, check_in, direction="in", limit=5) == [first, second]


# ---- safeguarding alerts ----------------------------------------------------------------------


def say(db, check_in, text):
    return repo.add_message(db, check_in, "in", text)[0]


def test_an_alert_keeps_exact_words_and_the_messages_before(db, school, check_in):
    repo.add_message(db, check_in, "out", "Do you feel safe at home?")
    said = say(db, check_in, "no he hurts me")
    alert, created = repo.raise_alert(db, check_in, said.text, ["abuse"], ["hurts me"], "screen", message=said)
    stored = reloaded(db, alert)
    assert created
    assert (stored.words, stored.categories, stored.evidence, stored.source, stored.status) == (
        "no he hurts me", ["abuse"], ["hurts me"], "screen", "open")
    assert [(c["direction"], c["text"]) for c in stored.context] == [("out", "Do you feel safe at home?")]
    assert (stored.pupil_id, stored.school_id, stored.session_id) == (check_in.pupil_id, school.id, check_in.id)
    assert [m.message_id for m in stored.messages] == [said.id]


def test_a_flood_of_worrying_messages_is_one_alert(db, check_in):
    now = utcnow()
    alert, _ = repo.raise_alert(db, check_in, "he hits me", ["abuse"], ["hits"], "screen", now=now)
    later = now + timedelta(minutes=8)
    same, created = repo.raise_alert(db, check_in, "i want to die", ["self_harm"], ["want to die"], "screen", now=later)
    assert same.id == alert.id and not created
    also, created = repo.raise_alert(db, check_in, "he hits me", ["abuse"], ["hits"], "intent",
                                     now=later + timedelta(minutes=9))
    assert also.id == alert.id and not created  # the window runs from the latest message
    stored = reloaded(db, alert)
    assert [m.words for m in stored.messages] == ["he hits me", "i want to die", "he hits me"]
    assert stored.categories == ["abuse", "self_harm"] and stored.evidence == ["hits", "want to die"]
    assert stored.last_message_at == later + timedelta(minutes=9)


def test_a_new_alert_starts_after_the_window_or_once_staff_have_seen_it(db, check_in, dsl):
    now = utcnow()
    first, _ = repo.raise_alert(db, check_in, "a", ["abuse"], [], "screen", now=now)
    second, created = repo.raise_alert(db, check_in, "b", ["abuse"], [], "screen", now=now + timedelta(minutes=11))
    assert created and second.id != first.id
    repo.update_alert_status(db, second, "seen", dsl)
    third, created = repo.raise_alert(db, check_in, "c", ["abuse"], [], "screen", now=now + timedelta(minutes=12))
    assert created and third.id not in (first.id, second.id)


def test_open_alerts_are_listed_per_school_until_closed(db, check_in, dsl):
    other_school = repo.create_school(db, "Elm Academy")
    elsewhere = repo.create_pupil(db, other_school, "Jo")
    elsewhere_session = repo.start_or_resume_session(db, repo.create_invite(db, elsewhere, "york")).session
    mine, _ = repo.raise_alert(db, check_in, "a", ["abuse"], [], "screen")
    theirs, _ = repo.raise_alert(db, elsewhere_session, "b", ["abuse"], [], "screen")
    assert repo.list_open_alerts(db, dsl.school) == [mine]
    assert set(repo.list_open_alerts(db)) == {mine, theirs}
    repo.update_alert_status(db, mine, "closed", dsl, action_taken="Spoke with Sam; no further action")
    assert repo.list_open_alerts(db, dsl.school) == []


def test_alert_status_moves_forward_and_records_who(db, check_in, dsl):
    alert, _ = repo.raise_alert(db, check_in, "a", ["abuse"], [], "screen")
    repo.update_alert_status(db, alert, "seen", dsl)
    with pytest.raises(ValueError, match="action"):
        repo.update_alert_status(db, alert, "actioned", dsl)
    repo.update_alert_status(db, alert, "actioned", dsl, action_taken="Referred to children's social care")
    with pytest.raises(ValueError, match="back"):
        repo.update_alert_status(db, alert, "seen", dsl)
    repo.update_alert_status(db, alert, "closed", dsl)
    stored = reloaded(db, alert)
    assert stored.status == "closed"
    assert (stored.seen_by_id, stored.actioned_by_id, stored.closed_by_id) == (dsl.id, dsl.id, dsl.id)
    assert stored.seen_at <= stored.actioned_at <= stored.closed_at
    assert stored.action_taken == "Referred to children's social care"


def test_alerts_cannot_be_deleted_through_the_orm(db, check_in):
    alert, _ = repo.raise_alert(db, check_in, "a", ["abuse"], [], "screen")
    db.delete(alert)
    with pytest.raises(PermissionError):
        db.flush()


# ---- delete my data -----------------------------------------------------------------------------


def test_deleting_a_pupils_data_keeps_their_alerts(db, school, dsl, pupil, invite, check_in):
    repo.record_answer(db, check_in, "york.safe.1", "safe", "no", "tapped")
    repo.record_answer(db, check_in, "york.safe.1", "safe", "sometimes", "tapped")
    repo.record_comment(db, check_in, "safe", "anything_else", "it is loud", MATCHES)
    repo.record_consent(db, check_in, ["senco"])
    repo.add_message(db, check_in, "out", "How was today?")
    said = say(db, check_in, "he hurts me")
    alert, _ = repo.raise_alert(db, check_in, said.text, ["abuse"], ["hurts"], "screen", message=said)
    repo.audit(db, dsl, "view_answers", "pupil", pupil.id, pupil=pupil)
    # Another pupil's data must not be touched.
    other = repo.create_pupil(db, school, "Alex")
    other_session = repo.start_or_resume_session(db, repo.create_invite(db, other, "york")).session
    repo.record_answer(db, other_session, "york.safe.1", "safe", "yes", "tapped")
    db.commit()

    report = repo.delete_pupil_data(db, pupil)
    db.commit()
    db.expire_all()

    assert report == repo.PupilDataDeletion(
        repo.CheckinDeletion(sessions=1, answers=2, comments=1, messages=2, consents=1),
        invites=1, alerts_kept=1, pupil_deleted=False)
    kept = db.get(SafeguardingAlert, alert.id)
    assert (kept.words, kept.session_id, kept.pupil_id) == ("he hurts me", None, pupil.id)
    assert [c["text"] for c in kept.context] == ["How was today?"]
    assert [(m.words, m.message_id) for m in kept.messages] == [("he hurts me", None)]
    assert db.get(Pupil, pupil.id) is not None  # the alert still says who it is about
    assert db.scalar(select(sa.func.count(AuditEntry.id)).where(AuditEntry.pupil_id == pupil.id)) == 1
    assert [a.value for a in repo.current_answers(db, other_session)] == ["yes"]


def test_a_pupil_without_alerts_is_deleted_entirely(db, school, pupil, check_in):
    repo.record_answer(db, check_in, "york.safe.1", "safe", "yes", "tapped")
    report = repo.delete_pupil_data(db, pupil)
    db.commit()
    assert report.pupil_deleted and report.alerts_kept == 0 and report.checkins.answers == 1
    assert db.get(Pupil, pupil.id) is None


def test_checkins_past_retention_are_deleted_and_newer_ones_kept(db, pupil, invite, check_in):
    now = utcnow()
    repo.record_answer(db, check_in, "york.safe.1", "safe", "yes", "tapped")
    repo.set_status(db, check_in, "finished", now=now - timedelta(days=40))
    recent = repo.start_or_resume_session(db, repo.create_invite(db, pupil, "york")).session
    repo.record_answer(db, recent, "york.safe.1", "safe", "no", "tapped")
    repo.set_status(db, recent, "finished", now=now - timedelta(days=10))
    db.commit()
    report = repo.delete_checkins(db, repo.checkins_ended_before(now - timedelta(days=30)))
    db.commit()
    assert (report.sessions, report.answers) == (1, 1)
    assert db.get(repo.SurveySession, check_in.id) is None
    assert [a.value for a in repo.current_answers(db, recent)] == ["no"]


# ---- outbox, consent, audit --------------------------------------------------------------------


def test_outbox_retries_with_growing_delays_until_sent(db):
    now = utcnow()
    email = repo.enqueue_email(db, "dsl@oak.example.org", "A worry was raised", "Please look.", now=now)
    assert repo.due_emails(db, now=now) == [email]
    delays = []
    for _ in range(8):
        repo.mark_failed(db, email, "connection refused", now=now)
        delays.append(email.next_attempt_at - now)
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delays[-1] == timedelta(hours=1)
    stored = reloaded(db, email)
    assert (stored.attempts, stored.last_error) == (8, "connection refused")
    assert repo.due_emails(db, now=now + timedelta(minutes=59)) == []
    assert repo.due_emails(db, now=now + timedelta(hours=1)) == [stored]
    repo.mark_sent(db, stored)
    assert repo.due_emails(db, now=now + timedelta(days=1)) == []


def test_consent_latest_decision_counts(db, check_in):
    assert repo.latest_consent(db, check_in) is None
    repo.record_consent(db, check_in, ["senco", "teacher"])
    repo.record_consent(db, check_in, [])
    db.commit()
    assert repo.latest_consent(db, check_in).audiences == []


def test_audit_entries_round_trip(db, dsl, pupil):
    entry = repo.audit(db, dsl, "export_section_a", "pupil", pupil.id, pupil=pupil, detail={"format": "docx"})
    system = repo.audit(db, None, "retention_run", "school")
    stored = reloaded(db, entry)
    assert (stored.actor_id, stored.action, stored.object_type, stored.object_id, stored.pupil_id, stored.detail) == (
        dsl.id, "export_section_a", "pupil", str(pupil.id), pupil.id, {"format": "docx"})
    assert reloaded(db, system).actor_id is None


def test_a_grouped_alert_leads_with_its_most_serious_message_and_a_more_serious_one_tells_the_lead_again(
        db, check_in, dsl):
    def emails() -> list[OutboxEmail]:
        return list(db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))

    first = alerts.raise_alert(db, check_in, words="people are mean to me at lunch", categories=["bullying_threats"],
                               evidence=["mean to me"], source="screen")
    assert len(emails()) == 1
    worse = alerts.raise_alert(db, check_in, words="my uncle hits me", categories=["abuse_physical"],
                               evidence=["uncle hits me"], source="screen")
    assert worse.id == first.id
    assert len(emails()) == 2 and "more serious message" in emails()[-1].body
    # As serious, less serious, or only the model's signal: the lead already has it.
    for words, categories, source in [("he hit me again", ["abuse_physical"], "screen"),
                                      ("they call me names", ["bullying_threats"], "screen"),
                                      ("i dont like it at home", [], "intent")]:
        alerts.raise_alert(db, check_in, words=words, categories=categories, evidence=[], source=source)
    assert len(emails()) == 2
    stored = reloaded(db, first)
    assert stored.words == "my uncle hits me"
    assert [m.words for m in stored.messages_most_serious_first] == [
        "my uncle hits me", "he hit me again", "people are mean to me at lunch", "they call me names",
        "i dont like it at home"]
