"""The comparison `make chaos` ends with (tests/chaos.py), on fabricated records: what pupils
sent and had acknowledged against what the database holds."""
from __future__ import annotations

from tests.chaos import Held, HeldAlert, HeldAnswer, Sent, compare

SAFE, HEARD, HEALTHY = "york.safe.1", "york.heard.1", "york.healthy.1"


def a_pupil() -> Sent:
    return Sent("pupil-01", answers={SAFE: "yes", HEARD: "no", HEALTHY: "sometimes"},
                typed={HEALTHY: ["some days"]}, comments=[("york.safe", "I like art club")],
                disclosures=["my step dad hurts me"], finished=True, questions=[SAFE, HEARD, HEALTHY])


def all_of_it() -> Held:
    return Held(
        answers=[HeldAnswer(SAFE, "yes", True), HeldAnswer(HEARD, "no", True),
                 HeldAnswer(HEALTHY, "sometimes", True, "some days")],
        comments=[("york.safe", "I like art club")],
        alerts=[HeldAlert(["my step dad hurts me"], emails_queued=1)],
        finished=True,
    )


def test_everything_held_counts_nothing():
    tally = compare([a_pupil()], {"pupil-01": all_of_it()})
    assert (tally.checkins, tally.lost, tally.misplaced, tally.duplicates, tally.alerts_lost) == (1, 0, 0, 0, 0)
    assert tally.problems == []


def test_a_lost_and_a_duplicated_answer_are_counted():
    held = all_of_it()
    held.answers = [HeldAnswer(HEARD, "no", False), HeldAnswer(HEARD, "no", True),  # stored twice
                    HeldAnswer(HEALTHY, "sometimes", True, "some days")]  # SAFE's answer is missing
    tally = compare([a_pupil()], {"pupil-01": held})
    assert (tally.lost, tally.misplaced, tally.duplicates, tally.alerts_lost) == (1, 0, 1, 0)
    assert tally.problems == [f"pupil-01: LOST answer to {SAFE} (yes) not stored",
                              f"pupil-01: DUPLICATE 2 answers stored for {HEARD}"]


def test_answers_on_the_wrong_question_or_with_anothers_words_are_misplaced():
    held = all_of_it()
    held.answers = [HeldAnswer(SAFE, "no", True), HeldAnswer(HEARD, "yes", True),  # swapped
                    HeldAnswer(HEALTHY, "sometimes", True, "yeah")]  # words typed elsewhere
    held.comments = [("york.heard", "I like art club")]
    tally = compare([a_pupil()], {"pupil-01": held})
    assert (tally.lost, tally.misplaced, tally.duplicates) == (0, 4, 0)


def test_a_disclosure_without_an_alert_or_its_alert_without_an_email_is_an_alert_lost():
    no_alert, no_email = all_of_it(), all_of_it()
    no_alert.alerts = []
    no_email.alerts = [HeldAlert(["my step dad hurts me"])]
    second = a_pupil()
    second.pupil = "pupil-02"
    tally = compare([a_pupil(), second], {"pupil-01": no_alert, "pupil-02": no_email})
    assert (tally.alerts_lost, tally.lost, tally.misplaced, tally.duplicates) == (2, 0, 0, 0)


def test_a_question_a_finished_checkin_never_asked_is_lost():
    skipped_past = a_pupil()
    del skipped_past.answers[HEALTHY]  # the pupil was never asked it
    held = all_of_it()
    held.answers = held.answers[:2]
    tally = compare([skipped_past], {"pupil-01": held})
    assert (tally.lost, tally.misplaced) == (1, 0)
    assert tally.problems == [f"pupil-01: LOST {HEALTHY} never answered: the check-in finished without it"]
