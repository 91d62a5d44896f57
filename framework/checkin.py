"""The check-in conversation, as plain functions over the database.

The Rasa actions are thin wrappers around these: each function reads the session from
the database (the source of truth, so breaks and restarts resume at the same step),
does one thing, and returns what the bot should say as `Say` items. Nothing here
imports Rasa, so all of it is unit-tested directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from framework import choices as choice_data
from framework import comment_cards as cards
from framework import we_did
from framework.answers import Answer, Clarify, Reply, answer_buttons, answer_scale, interpret
from framework.conversation import COMMENT_PROMPT, QUESTION_PROMPT, Stage
from framework.db import repository as repo
from framework.db.models import Comment, SchoolAction, SurveySession
from framework.loader import load_framework
from framework.mapping import mapper_for
from framework.schema import QUESTION_SETS
from framework.survey import Progress, SurveyPlan, Step

# A comment longer than this is kept whole in the transcript; the comment keeps this much.
MAX_COMMENT_CHARS = 2000
COMMENT_SYMBOL = "1F4AC"  # speech balloon: beside a comment in the read-back


@dataclass
class Say:
    """One bot message: a domain response by name (with fill-ins) or words from data."""

    response: str | None = None
    text: str | None = None
    fill: dict = field(default_factory=dict)
    buttons: list[dict] = field(default_factory=list)
    custom: dict | None = None


@dataclass
class ReplyOutcome:
    says: list[Say]
    clarifying: str | None = None  # words to ask about ("Do you mean…?"), or None
    done: bool = False  # no steps left


def plan_for(session: SurveySession) -> SurveyPlan:
    return SurveyPlan(load_framework(session.framework_id), session.perspective, session.question_set)


def stage(db: Session, session: SurveySession) -> Stage:
    """Where a check-in stands, from what the database holds."""
    if session.status == "finished" or repo.latest_consent(db, session) is not None:
        return Stage.FINISHED
    if session.stop_asked_at is not None:
        return Stage.CONSENT  # asked to stop: who may see the answers is all that is left
    if session.input_mode is None:
        return Stage.PREFERENCES
    if session.position is not None:
        return Stage.SURVEY
    if session.readback_confirmed_at is not None:
        return Stage.CONSENT
    return Stage.READBACK


def progress(db: Session, session: SurveySession) -> Progress | None:
    """How far the young person is, from the database; None before the questions start."""
    current = stage(db, session)
    if current == Stage.PREFERENCES:
        return None
    return plan_for(session).progress(session.position if current == Stage.SURVEY else None)


def opening(db: Session, session: SurveySession) -> list[Say]:
    """What the bot says when a young person arrives: a welcome, or a welcome back."""
    current = stage(db, session)
    if current == Stage.PREFERENCES:
        names = ("utter_opening", "utter_opening_no_wrong_answers", "utter_opening_control",
                 "utter_opening_who_sees", "utter_opening_safety")
        return [Say(response=name) for name in names]
    if current == Stage.FINISHED:
        return []
    if session.status in ("paused", "stopped"):
        repo.set_status(db, session, "active")
    return [Say(response="utter_welcome_back")]


def question_sets_offered(session: SurveySession) -> list[str]:
    """The question sets a young person may choose from: the one staff chose on the invite first
    (the default, and the first button), then each shorter one; never a longer one."""
    invited = QUESTION_SETS.index(session.invite.question_set)
    return list(reversed(QUESTION_SETS[:invited + 1]))


def save_preferences(db: Session, session: SurveySession, *, input_mode: str, read_aloud: bool,
                     question_set: str | None, who_with: str) -> list[Say]:
    """Store the young person's preferences. A question set longer than the one staff chose (typed
    "all of them") keeps staff's; None (not asked: staff chose the shortest) keeps it too."""
    offered = question_sets_offered(session)
    repo.save_preferences(db, session, input_mode=input_mode, read_aloud=read_aloud,
                          question_set=question_set if question_set in offered else offered[0], who_with=who_with)
    repo.set_position(db, session, plan_for(session).first().key)
    we_did.keep_for(db, session)
    return [Say(response="utter_preferences_saved")]


def ask_current(db: Session, session: SurveySession, clarifying: str | None = None) -> list[Say]:
    """Ask the step the young person is on (or ask back about unclear words). Before the first
    question, first tell them what their school did since they last spoke ("you said, we did")."""
    plan = plan_for(session)
    waiting = _waiting_for_reply(db, session, plan)
    if waiting is not None:
        return _tell(db, session, waiting, clarifying)
    step = plan.step(session.position)
    if clarifying is not None:
        return [Say(response="utter_clarify", buttons=answer_buttons(), custom={"kind": "clarify"})]
    area = plan.framework.area(step.area_id)
    says: list[Say] = []
    prompts = area.prompts.get(session.perspective)
    if plan.starts_area(step.key) and prompts:
        says.append(Say(response="utter_area_intro", fill={"intro": prompts.intro},
                        custom={"kind": "area_intro", "area_id": area.id, "symbol": area.symbol,
                                "area_title": area.plain_title}))
    if step.is_question:
        statement = plan.framework.statement(step.statement_id)
        says.append(Say(response="utter_question", fill={"question": statement.question},
                        buttons=answer_buttons(),
                        custom={"kind": QUESTION_PROMPT, "statement_id": statement.id,
                                "symbol": statement.symbol}))
    else:
        prompt = getattr(prompts, step.kind)
        says.append(Say(response="utter_comment_prompt", fill={"prompt": prompt}, buttons=[no_more_button()],
                        custom={"kind": COMMENT_PROMPT, "comment_kind": step.kind, "area_id": area.id,
                                "symbol": area.symbol, "board": card_board(plan, area.id, step.kind)}))
    return says


def no_more_button() -> dict:
    """Under a comment prompt: nothing more to say (the answer scale's skip)."""
    words = cards.comment_cards().controls.no_more
    return {"title": words.words, "payload": answer_scale().by_value("skipped").payload, "symbol": words.symbol}


def card_board(plan: SurveyPlan, area_id: str, kind: str) -> dict:
    """The cards under one comment prompt, with the words of the buttons that go with them."""
    data = cards.comment_cards()
    return {
        "cards": [{"id": card_id, "words": card.words, "symbol": card.symbol}
                  for card_id, card in data.board(plan.framework, area_id, kind)],
        "payload": cards.PAYLOAD_PREFIX,  # the widget adds {"cards": "<chosen ids>"}
        "send": data.controls.send.model_dump(),
        "own_way": data.controls.own_way.model_dump(),
    }


def explain_current(db: Session, session: SurveySession) -> list[Say]:
    """Help asked for at a question ("wdym", "?"): the question said another way, and an
    example. Anywhere else, how to answer. The form then asks again, with the buttons."""
    plan = plan_for(session)
    step = plan.step(session.position) if stage(db, session) == Stage.SURVEY else None
    if step is None or not step.is_question or _waiting_for_reply(db, session, plan) is not None:
        return [Say(response="utter_help"), Say(response="utter_help_more")]
    statement = plan.framework.statement(step.statement_id)
    custom = {"kind": "explain", "statement_id": statement.id}
    return [Say(response="utter_another_way"),
            Say(text=statement.reworded, custom={**custom, "symbol": statement.symbol}),
            Say(text=statement.example, custom=custom)]


def _advance(db: Session, session: SurveySession, plan: SurveyPlan, step: Step, changing: bool,
             nothing_more: bool = False) -> bool:
    """Move to the next step; True when there is none (or a change at read-back is done).
    An area's second comment prompt is asked only when the first one was answered."""
    following = None if changing else plan.after(step.key)
    if nothing_more and following is not None and following.area_id == step.area_id and not following.is_question:
        following = plan.after(following.key)
    repo.set_position(db, session, following.key if following else None)
    return following is None


def handle_reply(db: Session, session: SurveySession, reply: Reply, *, clarifying: str | None = None,
                 changing: bool = False) -> ReplyOutcome:
    """Store one reply to the current step and move on, or ask back when unsure."""
    plan = plan_for(session)
    waiting = _waiting_for_reply(db, session, plan)
    if waiting is not None:
        return _take_help_reply(db, waiting, reply, clarifying)
    step = plan.step(session.position)
    chosen = cards.chosen_in(reply.text) if reply.tapped else None
    if step.is_question and chosen is not None:
        return ReplyOutcome(says=[], clarifying=clarifying)  # cards from an earlier board: ask again
    if step.is_question:
        result = interpret(reply, clarifying, question=plan.framework.statement(step.statement_id).question)
        if isinstance(result, Clarify):
            return ReplyOutcome(says=[], clarifying=result.words)
        _store_answer(db, session, step, result)
        says = [Say(response="utter_you_said", fill={"answer": answer_scale().by_value(result.value).readback})] \
            if result.how_given != "tapped" else []
        if changing:
            says.append(Say(response="utter_changed"))
        return ReplyOutcome(says=says, done=_advance(db, session, plan, step, changing))
    # A comment step: any words are kept exactly, so are chosen cards; No more (or a plain "no") passes.
    says = []
    option = answer_scale().by_intent(reply.intent) if reply.intent else None
    declined = option is not None and option.value in ("skipped", "no") and (reply.tapped or len(reply.text.split()) <= 3)
    if chosen is not None:
        card_words = [cards.comment_cards().cards[card_id].words for card_id in chosen]
        _keep_comment(db, session, plan, step, "; ".join(card_words), card_words)
        says.append(Say(response="utter_cards_kept"))
    elif reply.tapped and not declined:
        # a button from an earlier question is not a comment: ask this prompt again
        return ReplyOutcome(says=[])
    elif not declined and reply.text.strip():
        _keep_comment(db, session, plan, step, reply.text[:MAX_COMMENT_CHARS])
        says.append(Say(response="utter_comment_kept"))
        if len(reply.text) > MAX_COMMENT_CHARS:
            says.append(Say(response="utter_long_message"))
    return ReplyOutcome(says=says, done=_advance(db, session, plan, step, changing, nothing_more=declined))


def _tell(db: Session, session: SurveySession, action: SchoolAction, clarifying: str | None) -> list[Say]:
    """One "you said, we did" item: what they were asked and said, what the school did (with the
    area's symbol), then "Did that help?". After unclear words, only the question again."""
    words = we_did.words()
    ask = Say(text=words.did_it_help, buttons=words.buttons(), custom={"kind": "we_did_ask"})
    if clarifying is not None:
        return [Say(text=words.check, buttons=ask.buttons, custom=ask.custom)]
    first = we_did.nothing_told_yet(db, session)
    we_did.mark_told(db, action)
    told = we_did.telling(action)
    area = {"kind": "we_did", "area_id": told.area_id, "area_title": told.area_title, "symbol": told.symbol}
    return [*([Say(text=words.intro)] if first else []), Say(text=told.recap, custom=area),
            Say(text=told.now, custom=area), ask]


def _waiting_for_reply(db: Session, session: SurveySession, plan: SurveyPlan) -> SchoolAction | None:
    """The "you said, we did" item kept for this check-in that still waits for "Did that
    help?"; only ever before the first question (none is asked while one waits)."""
    return we_did.waiting_for_reply(db, session) if session.position == plan.first().key else None


def _take_help_reply(db: Session, action: SchoolAction, reply: Reply, clarifying: str | None) -> ReplyOutcome:
    """Store the reply to "Did that help?"; the check-in stays where it is, so the form asks the
    next item, or the first question."""
    if reply.tapped and cards.chosen_in(reply.text) is not None:
        return ReplyOutcome(says=[], clarifying=clarifying)  # cards from an earlier board: ask again
    result = interpret(reply, clarifying)
    if isinstance(result, Clarify):
        return ReplyOutcome(says=[], clarifying=result.words)
    chosen = we_did.words().reply_for(result.value)
    if chosen is None:  # "I don't know" is no answer to this: Skip is, so the buttons come again
        return ReplyOutcome(says=[], clarifying=result.words or clarifying)
    we_did.record_reply(db, action, chosen.value, result.how_given, result.words)
    return ReplyOutcome(says=[Say(text=we_did.words().thanks)])


def _keep_comment(db: Session, session: SurveySession, plan: SurveyPlan, step: Step, words: str,
                  card_words: list[str] | None = None) -> None:
    """Store a comment (typed words, or the words of the cards chosen) with the statements it speaks to."""
    matches = mapper_for(plan.framework.id, session.perspective).map(words)
    repo.record_comment(db, session, area_id=step.area_id, kind=step.kind, text=words,
                        mappings=[m.as_json() for m in matches], cards=card_words)


def _store_answer(db: Session, session: SurveySession, step: Step, answer: Answer) -> None:
    repo.record_answer(
        db, session,
        statement_id=step.statement_id, area_id=step.area_id, value=answer.value,
        words=answer.words, method=answer.how_given, confidence=answer.confidence,
    )


def read_back(db: Session, session: SurveySession) -> list[Say]:
    """'Here is what you told me', area by area, then 'Is that right?'."""
    plan = plan_for(session)
    scale = answer_scale()
    current = {a.statement_id: a for a in repo.current_answers(db, session)}
    comments = repo.comments_for(db, session)
    says = [Say(response="utter_readback_intro", custom={"kind": "readback"})]
    for area in plan.areas:
        # Each line with the symbol of its answer, so a child who reads little can check it, and an
        # answer's line with the payload that asks it again (change in one tap).
        lines = []
        for statement in area.asked(session.perspective, session.question_set):
            answer = current.get(statement.id)
            if answer is not None:
                said = scale.by_value(answer.value)
                lines.append({"text": f"{statement.question} {said.readback}.", "symbol": said.symbol,
                              "change": choice_data.choose_payload("statement_id", statement.id)})
        lines += [_comment_line(c) for c in comments if c.area_id == area.id]
        if lines:
            # As plain text, not a response template: Rasa's template filling breaks on some typed words.
            says.append(Say(text="\n".join(line["text"] for line in lines),
                            custom={"kind": "readback_area", "area_id": area.id, "area_title": area.plain_title,
                                    "symbol": area.symbol, "lines": lines,
                                    "contains_child_words": any(c.area_id == area.id for c in comments)}))
    says.append(Say(response="utter_readback_check",
                    buttons=[choice_data.fixed_button("readback_right"), choice_data.fixed_button("readback_change")]))
    return says


def _comment_line(comment: Comment) -> dict:
    if comment.cards:
        return {"text": "You chose: " + ", ".join(comment.cards) + ".", "symbol": COMMENT_SYMBOL}
    return {"text": f"You said: \u201c{comment.text}\u201d", "symbol": COMMENT_SYMBOL}


def change_options(db: Session, session: SurveySession) -> list[Say]:
    """A button for each question answered, to pick one to change."""
    plan = plan_for(session)
    answered = {a.statement_id for a in repo.current_answers(db, session)}
    buttons = [
        {"title": st.question, "payload": choice_data.choose_payload("statement_id", st.id), "symbol": st.symbol}
        for st in plan.questions if st.id in answered
    ]
    return [Say(response="utter_ask_which_change", buttons=buttons)]


def begin_change(db: Session, session: SurveySession, statement_id: str) -> bool:
    """Put the check-in back on one question; False if it is not one of this check-in's."""
    plan = plan_for(session)
    try:
        step = plan.question_step(statement_id)
    except KeyError:
        return False
    repo.set_position(db, session, step.key)
    return True


def confirm_readback(db: Session, session: SurveySession) -> None:
    """The young person said the read-back is right; consent is asked next."""
    repo.confirm_readback(db, session)


def save_consent(db: Session, session: SurveySession, consent: str) -> list[Say]:
    repo.record_consent(db, session, [consent])
    if session.stop_asked_at is not None:
        repo.set_status(db, session, "stopped")
        return [Say(response="utter_consent_safety"), Say(response="utter_goodbye", custom={"kind": "stopped"})]
    repo.set_status(db, session, "finished")
    return [Say(response="utter_consent_safety"), Say(response="utter_thanks_end"),
            Say(response="utter_finished", custom={"kind": "end"})]


def take_break(db: Session, session: SurveySession) -> list[Say]:
    repo.set_status(db, session, "paused")
    return [Say(response="utter_take_break"), Say(response="utter_break_how_to_return", custom={"kind": "paused"})]


def stop(db: Session, session: SurveySession) -> list[Say]:
    """Stop, keeping what was given. With answers or comments given, who may see them is asked
    first, in one step (the consent form asks it next; `stage` is then CONSENT). Asked to stop at
    that question, the check-in ends with no choice made: only the school sees it, the most
    private choice, as when the young person leaves without answering."""
    now = stage(db, session)
    if now != Stage.CONSENT and _anything_given(db, session):
        repo.record_stop_asked(db, session)
        return [Say(response="utter_stop")]
    repo.set_status(db, session, "stopped")
    ending = "utter_stop_school_only" if now == Stage.CONSENT else "utter_stop"
    return [Say(response=ending), Say(response="utter_goodbye", custom={"kind": "stopped"})]


def _anything_given(db: Session, session: SurveySession) -> bool:
    return bool(repo.current_answers(db, session) or repo.comments_for(db, session))
