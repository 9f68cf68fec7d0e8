"""Training rules, without HTTP: visibility, versioning, quizzes, prerequisites,
completion, qualifications with expiry, attestations, sanitising."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tests.factories import make_member, make_tenant
from volunteer_platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from volunteer_platform.extensions import db
from volunteer_platform.training import queries, services
from volunteer_platform.training.models import (
    Assignment,
    Attestation,
    CatalogueStatus,
    CompetenceArea,
    Level,
    Module,
    ModuleCompletion,
    QualificationAward,
    QuestionKind,
    QuizAttempt,
)
from volunteer_platform.training.rendering import ALLOWED_TAGS, render_markdown

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def fields(title="Créer une adresse e-mail", **extra):
    return services.VersionFields(title=title, competence_area=CompetenceArea.COMMUNICATION,
                                  level=Level.BEGINNER, **extra)


def build_module(owner=None, *, lessons=2, questions=2, pass_mark=50, qualification=None,
                 requires_attendance=False, publish=True, title="Créer une adresse e-mail"):
    module = services.create_module(
        owner, fields(title, pass_mark=pass_mark, requires_attendance=requires_attendance,
                      qualification_id=qualification.id if qualification else None), now=NOW)
    version = module.versions[0]
    for i in range(1, lessons + 1):
        services.add_lesson(version, owner, title=f"Leçon {i}", body=f"Contenu de la leçon {i}")
    for i in range(1, questions + 1):
        services.add_question(version, owner, prompt=f"Question {i} ?", kind=QuestionKind.SINGLE,
                              choices=[("Bonne", True), ("Mauvaise", False)], feedback=f"Explication {i}")
    if publish:
        services.publish(module, owner, now=NOW)
    db.session.commit()
    return module


def answers(version, *, right=True):
    return {q.id: [next(c.id for c in q.choices if c.is_correct is right)] for q in version.questions}


def read_all(user, version, tenant, now=NOW):
    for lesson in version.lessons:
        services.mark_lesson_read(user, lesson, tenant, now=now)


# --- visibility -------------------------------------------------------------------


def test_a_structures_own_modules_are_invisible_to_other_structures(app):
    a, b = make_tenant(), make_tenant()
    shared = build_module(None, title="Commun")
    own_a = build_module(a, title="Propre à A")
    visible_to_b = {m.id for m in db.session.scalars(queries.visible(Module, b))}
    assert shared.id in visible_to_b and own_a.id not in visible_to_b
    with pytest.raises(NotFound):
        queries.get_visible(Module, own_a.id, b)
    assert [v.title for v in queries.published_catalogue(b)] == ["Commun"]
    assert {v.title for v in queries.published_catalogue(a)} == {"Commun", "Propre à A"}


def test_structures_cannot_edit_the_shared_catalogue_nor_each_other(app):
    a, b = make_tenant(), make_tenant()
    shared = build_module(None, publish=False)
    own_a = build_module(a, publish=False)
    with pytest.raises(Forbidden):
        services.add_lesson(shared.versions[0], a, title="Intrus", body="")
    with pytest.raises(Forbidden):
        services.publish(own_a, b, now=NOW)
    with pytest.raises(Forbidden):
        services.editable_version(own_a, None, now=NOW)  # the association does not edit A's module


# --- versioning ----------------------------------------------------------------------


def test_editing_a_published_module_makes_a_new_version_and_keeps_old_completions(app):
    tenant = make_tenant()
    user = make_member(tenant)
    module = build_module(None)
    v1 = queries.latest_published_version(module)
    read_all(user, v1, tenant)
    services.submit_quiz(user, v1, tenant, answers(v1), now=NOW)
    db.session.commit()

    draft = services.editable_version(module, None, now=NOW)
    assert draft.number == 2 and draft.is_draft and draft.id != v1.id
    assert [l.title for l in draft.lessons] == [l.title for l in v1.lessons]  # content copied
    assert services.editable_version(module, None, now=NOW).id == draft.id  # one draft at a time
    services.update_lesson(draft.lessons[0], None, title="Leçon 1 révisée", body="Nouveau")
    with pytest.raises(Conflict):
        services.update_lesson(v1.lessons[0], None, title="Interdit", body="")
    assert queries.latest_published_version(module).id == v1.id  # learners still get v1

    services.publish(module, None, now=NOW + timedelta(days=1))
    db.session.commit()
    assert queries.latest_published_version(module).number == 2
    db.session.refresh(v1)
    assert v1.lessons[0].title == "Leçon 1"
    completion = db.session.scalars(select(ModuleCompletion).where(ModuleCompletion.user_id == user.id)).one()
    assert completion.version_id == v1.id
    attestation = db.session.scalars(select(Attestation).where(Attestation.user_id == user.id)).one()
    assert attestation.module_version_id == v1.id and attestation.withdrawn_at is None
    # The module counts as done in the new version too.
    assert queries.module_progress(user, queries.latest_published_version(module)).completed_at is not None


def test_a_module_without_lessons_cannot_be_published(app):
    module = build_module(None, lessons=0, questions=0, publish=False)
    with pytest.raises(ValidationFailed):
        services.publish(module, None, now=NOW)
    assert module.status is CatalogueStatus.DRAFT


def test_archived_modules_leave_the_catalogue_but_completions_stay(app):
    tenant = make_tenant()
    user = make_member(tenant)
    module = build_module(None, questions=0)
    read_all(user, queries.latest_published_version(module), tenant)
    services.set_archived(module, None, True)
    db.session.commit()
    assert queries.published_catalogue(tenant) == []
    with pytest.raises(NotFound):
        services.current_version_for_learning(module)
    assert db.session.scalar(select(func.count(ModuleCompletion.id))) == 1


# --- quizzes ---------------------------------------------------------------------------


@pytest.mark.parametrize("pass_mark, right_answers, passed", [(50, 1, True), (51, 1, False), (100, 2, True), (100, 1, False)])
def test_pass_mark(app, pass_mark, right_answers, passed):
    tenant = make_tenant()
    user = make_member(tenant)
    version = queries.latest_published_version(build_module(None, pass_mark=pass_mark))
    given = answers(version)
    if right_answers == 1:
        wrong = answers(version, right=False)
        first = version.questions[0].id
        given[first] = wrong[first]
    result = services.submit_quiz(user, version, tenant, given, now=NOW)
    assert result.attempt.score == 50 * right_answers
    assert result.passed is passed
    assert [r.correct for r in result.results].count(False) == 2 - right_answers


def test_multiple_answer_questions_need_exactly_the_right_set(app):
    tenant = make_tenant()
    user = make_member(tenant)
    module = build_module(None, questions=0, publish=False)
    version = module.versions[0]
    question = services.add_question(version, None, prompt="Lesquels ?", kind=QuestionKind.MULTIPLE,
                                     choices=[("A", True), ("B", True), ("C", False)])
    services.publish(module, None, now=NOW)
    a, b, c = (choice.id for choice in question.choices)
    assert services.submit_quiz(user, version, tenant, {question.id: [a]}, now=NOW).attempt.score == 0
    assert services.submit_quiz(user, version, tenant, {question.id: [a, b, c]}, now=NOW).attempt.score == 0
    assert services.submit_quiz(user, version, tenant, {question.id: [a, b]}, now=NOW).attempt.score == 100


def test_retakes_are_recorded_and_a_later_pass_completes(app):
    tenant = make_tenant()
    user = make_member(tenant)
    version = queries.latest_published_version(build_module(None, pass_mark=100))
    read_all(user, version, tenant)
    first = services.submit_quiz(user, version, tenant, answers(version, right=False), now=NOW)
    assert not first.passed and first.completion is None
    second = services.submit_quiz(user, version, tenant, answers(version), now=NOW + timedelta(minutes=5))
    assert second.passed and second.completion is not None
    assert db.session.scalar(select(func.count(QuizAttempt.id)).where(QuizAttempt.user_id == user.id)) == 2


def test_an_unanswered_question_is_refused_and_nothing_is_saved(app):
    tenant = make_tenant()
    user = make_member(tenant)
    version = queries.latest_published_version(build_module(None))
    partial = answers(version)
    partial.pop(version.questions[1].id)
    with pytest.raises(ValidationFailed) as refused:
        services.submit_quiz(user, version, tenant, partial, now=NOW)
    assert refused.value.field == f"q{version.questions[1].id}"
    db.session.rollback()
    assert db.session.scalar(select(func.count(QuizAttempt.id))) == 0


def test_answers_from_another_question_do_not_count(app):
    tenant = make_tenant()
    user = make_member(tenant)
    version = queries.latest_published_version(build_module(None))
    q1, q2 = version.questions
    right_q2 = next(c.id for c in q2.choices if c.is_correct)
    with pytest.raises(ValidationFailed):  # q1 "answered" with q2's choice only: no valid answer
        services.submit_quiz(user, version, tenant, {q1.id: [right_q2], q2.id: [right_q2]}, now=NOW)


def test_question_choices_are_checked(app):
    version = build_module(None, questions=0, publish=False).versions[0]
    with pytest.raises(ValidationFailed):
        services.add_question(version, None, prompt="?", kind=QuestionKind.SINGLE, choices=[("A", True), ("B", True)])
    with pytest.raises(ValidationFailed):
        services.add_question(version, None, prompt="?", kind=QuestionKind.SINGLE, choices=[("A", True), ("  ", False)])
    with pytest.raises(ValidationFailed):
        services.add_question(version, None, prompt="?", kind=QuestionKind.MULTIPLE, choices=[("A", False), ("B", False)])


# --- completion, prerequisites, attendance ------------------------------------------------


def test_completion_needs_every_lesson_and_the_quiz(app):
    tenant = make_tenant()
    user = make_member(tenant)
    version = queries.latest_published_version(build_module(None, lessons=3))
    services.submit_quiz(user, version, tenant, answers(version), now=NOW)
    services.mark_lesson_read(user, version.lessons[0], tenant, now=NOW)
    services.mark_lesson_read(user, version.lessons[1], tenant, now=NOW)
    assert queries.module_progress(user, version).completed_at is None
    assert queries.module_progress(user, version).next_lesson().id == version.lessons[2].id
    completion = services.mark_lesson_read(user, version.lessons[2], tenant, now=NOW)
    assert completion is not None and completion.tenant_id == tenant.id


def test_in_person_attendance_is_required_when_the_module_says_so(app):
    tenant = make_tenant()
    user = make_member(tenant)
    module = build_module(None, questions=0, requires_attendance=True)
    version = queries.latest_published_version(module)
    read_all(user, version, tenant)
    assert queries.module_progress(user, version).completed_at is None
    services.record_attendance(tenant, user, module, attended_on=NOW.date(), recorded_by=None, now=NOW)
    assert queries.module_progress(user, version).completed_at is not None


def test_attending_a_shared_modules_session_in_two_structures_records_it_once(app):
    from tests.factories import make_membership
    from volunteer_platform.training.models import InPersonAttendance

    first, second = make_tenant(), make_tenant()
    user = make_member(first)
    make_membership(second, user)
    module = build_module(None, questions=0, requires_attendance=True)
    kept = services.record_attendance(first, user, module, attended_on=NOW.date(), recorded_by=None, now=NOW)
    again = services.record_attendance(second, user, module, attended_on=NOW.date() + timedelta(days=7),
                                       recorded_by=None, now=NOW)
    db.session.commit()
    assert again.id == kept.id
    assert db.session.scalar(select(func.count(InPersonAttendance.id))) == 1


def test_a_due_date_before_today_in_the_structure_is_refused(app):
    tenant = make_tenant(timezone="Europe/Paris")
    user = make_member(tenant)
    module = build_module(None)
    late_evening = datetime(2026, 6, 15, 22, 30, tzinfo=UTC)  # already 16 June in Paris
    with pytest.raises(ValidationFailed) as refused:
        services.assign(tenant, [user], module=module, due_on=date(2026, 6, 15), assigned_by=None,
                        now=late_evening)
    assert refused.value.field == "due_on"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
    services.assign(tenant, [user], module=module, due_on=date(2026, 6, 16), assigned_by=None, now=late_evening)
    db.session.commit()
    assert db.session.scalars(select(Assignment.due_on)).all() == [date(2026, 6, 16)]


def test_path_prerequisites_are_enforced_in_order(app):
    tenant = make_tenant()
    user = make_member(tenant)
    first = build_module(None, title="Premier", questions=0)
    second = build_module(None, title="Second", questions=0)
    path = services.create_path(None, title="Niveau 1", module_ids=[first.id, second.id], now=NOW, publish_now=True)
    services.assign(tenant, [user], path=path, assigned_by=None, now=NOW)
    db.session.commit()

    assert [m.id for m in queries.missing_prerequisites(user, second, tenant)] == [first.id]
    with pytest.raises(Forbidden):
        services.mark_lesson_read(user, queries.latest_published_version(second).lessons[0], tenant, now=NOW)
    read_all(user, queries.latest_published_version(first), tenant)
    assert queries.missing_prerequisites(user, second, tenant) == []
    read_all(user, queries.latest_published_version(second), tenant)
    assert queries.path_completed(user, path)
    # Outside an assigned path, a module has no prerequisite.
    other = make_member(tenant)
    assert queries.missing_prerequisites(other, second, tenant) == []


# --- qualifications ---------------------------------------------------------------------


def test_qualification_granted_on_completion_expires_after_its_validity(app):
    tenant = make_tenant()
    user = make_member(tenant)
    qualification = services.create_qualification(None, name="Démarches en ligne", validity_months=24, now=NOW)
    version = queries.latest_published_version(build_module(None, questions=0, qualification=qualification))
    read_all(user, version, tenant)
    award = db.session.scalars(select(QualificationAward)).one()
    assert award.expires_at == datetime(2028, 6, 15, 10, 0, tzinfo=UTC)
    assert queries.holds_qualification(user.id, qualification.id, NOW)
    assert queries.holds_qualification(user.id, qualification.id, datetime(2028, 6, 15, 9, 59, tzinfo=UTC))
    assert not queries.holds_qualification(user.id, qualification.id, datetime(2028, 6, 15, 10, 0, tzinfo=UTC))
    assert not queries.holds_qualification(user.id, qualification.id, NOW - timedelta(seconds=1))


def test_external_qualification_and_withdrawal(app):
    tenant = make_tenant()
    user, coordinator = make_member(tenant), make_member(tenant, "coordinator")
    qualification = services.create_qualification(tenant, name="PIX", validity_months=None, now=NOW)
    with pytest.raises(ValidationFailed):
        services.record_external_qualification(tenant, user, qualification, obtained_on=NOW, note=" ",
                                               recorded_by=coordinator, now=NOW)
    with pytest.raises(ValidationFailed):
        services.record_external_qualification(tenant, user, qualification, obtained_on=NOW + timedelta(days=1),
                                               note="Certification", recorded_by=coordinator, now=NOW)
    award = services.record_external_qualification(tenant, user, qualification, obtained_on=NOW - timedelta(days=10),
                                                   note="Certification PIX", recorded_by=coordinator, now=NOW)
    assert award.expires_at is None
    assert queries.holds_qualification(user.id, qualification.id, NOW + timedelta(days=3650))
    services.withdraw_award(award, reason="Erreur de saisie", now=NOW)
    assert not queries.holds_qualification(user.id, qualification.id, NOW)
    with pytest.raises(Conflict):
        services.withdraw_award(award, reason="Encore", now=NOW)


def test_reminders_are_due_a_month_before_expiry(app):
    tenant = make_tenant()
    user = make_member(tenant)
    qualification = services.create_qualification(None, name="Q", validity_months=24, now=NOW)
    soon = services.award(tenant, user, qualification, source="external", now=NOW,
                          awarded_at=NOW - timedelta(days=730 - 20))
    services.award(tenant, user, qualification, source="external", now=NOW, awarded_at=NOW - timedelta(days=600))
    services.award(tenant, user, qualification, source="external", now=NOW, awarded_at=NOW - timedelta(days=800))
    assert [a.id for a in services.awards_needing_reminder(now=NOW)] == [soon.id]


# --- attestations -------------------------------------------------------------------------


def test_attestation_codes_are_unguessable_and_verifiable(app):
    tenant = make_tenant()
    user = make_member(tenant)
    version = queries.latest_published_version(build_module(None, questions=0))
    read_all(user, version, tenant)
    attestation = db.session.scalars(select(Attestation)).one()
    assert len(attestation.code) == 24 and attestation.code.isalnum()
    spaced = " ".join(attestation.code[i:i + 4] for i in range(0, 24, 4)).lower()
    assert services.attestation_by_code(spaced).id == attestation.id
    with pytest.raises(NotFound):
        services.attestation_by_code("A" * 24)
    codes = {services.new_attestation_code() for _ in range(200)}
    assert len(codes) == 200


def test_withdrawing_a_module_qualification_withdraws_its_attestation(app):
    tenant = make_tenant()
    user = make_member(tenant)
    qualification = services.create_qualification(None, name="Q", now=NOW)
    version = queries.latest_published_version(build_module(None, questions=0, qualification=qualification))
    read_all(user, version, tenant)
    award = db.session.scalars(select(QualificationAward)).one()
    services.withdraw_award(award, reason="Fraude au quiz", now=NOW)
    attestation = db.session.scalars(select(Attestation)).one()
    assert attestation.withdrawn_at == NOW


# --- sanitising -----------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](java\tscript:alert(1))",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<svg onload=alert(1)></svg>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "<form action=\"https://evil.example\"><input name=p></form>",
    "<object data=\"evil.swf\"></object>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    "<details open ontoggle=alert(1)>",
    "[x](vbscript:msgbox(1))",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))


def elements_of(html: str):
    parser = _Elements()
    parser.feed(html)
    return parser.elements


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_is_neutralised(source):
    """Whatever the input, the output has only harmless tags, no event handler,
    no style, and links/images only to http(s), mailto, tel or relative URLs.
    (Text that merely *reads* "javascript:" is inert.)"""
    for tag, attrs in elements_of(str(render_markdown(source))):
        assert tag in ALLOWED_TAGS, (source, tag)
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (source, name)
            if name in ("href", "src"):
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in ("", "http", "https", "mailto", "tel"), (source, value)


def test_ordinary_markdown_is_kept():
    html = str(render_markdown("# Titre\n\nUn **mot** et [un lien](https://www.service-public.fr).\n\n"
                               "![Écran d'accueil](https://exemple.fr/ecran.png)\n\n- un\n- deux"))
    assert "<h2>Titre</h2>" in html  # h1 is reserved for the page
    assert "<strong>mot</strong>" in html
    assert 'href="https://www.service-public.fr"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert '<img src="https://exemple.fr/ecran.png" alt="Écran d\'accueil">' in html
    assert "<li>deux</li>" in html
