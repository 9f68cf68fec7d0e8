"""The demo training catalogue: built through the real services on top of
the demo structures, with volunteers at every stage."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from volunteer_platform.db import utcnow
from volunteer_platform.demo import seed_demo
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training import queries
from volunteer_platform.training.models import (
    Attestation,
    CatalogueStatus,
    Module,
    ModuleVersion,
    Path,
    QualificationAward,
    QuestionKind,
    TrainingSettings,
)
from volunteer_platform.training.rendering import render_markdown


def test_the_demo_has_a_real_catalogue_and_volunteers_at_every_stage(app):
    now = utcnow()
    seed_demo(password="demo-password-for-tests")  # the training catalogue comes with it
    db.session.commit()
    tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}

    shared = list(db.session.scalars(
        select(Module).where(Module.tenant_id.is_(None), Module.status == CatalogueStatus.PUBLISHED)
    ))
    assert len(shared) >= 8
    for module in shared:
        version = db.session.scalars(
            select(ModuleVersion).where(ModuleVersion.module_id == module.id)
            .options(selectinload(ModuleVersion.lessons), selectinload(ModuleVersion.questions))
        ).one()
        assert not version.is_draft
        assert len(version.lessons) >= 2, version.title
        assert 3 <= len(version.questions) <= 5, version.title
        for question in version.questions:
            right = [c for c in question.choices if c.is_correct]
            assert question.feedback and len(question.choices) >= 2
            assert len(right) == 1 or question.kind is QuestionKind.MULTIPLE
    assert any(queries.latest_published_version(m).requires_attendance for m in shared)

    # Every lesson renders, with the Markdown actually turned into HTML.
    for version in db.session.scalars(select(ModuleVersion).options(selectinload(ModuleVersion.lessons))):
        for lesson in version.lessons:
            html = render_markdown(lesson.body)
            assert html.startswith("<") and "**" not in html and "](" not in html, lesson.title

    paths = {p.title: p for p in db.session.scalars(select(Path).where(Path.tenant_id.is_(None)))}
    assert set(paths) == {"Aidant numérique — niveau 1", "Accompagner la recherche d'emploi"}
    assert len(paths["Aidant numérique — niveau 1"].steps) in (4, 5)
    assert len(paths["Accompagner la recherche d'emploi"].steps) == 3
    assert all(p.status is CatalogueStatus.PUBLISHED and p.qualification is not None for p in paths.values())
    assert {p.qualification.validity_months for p in paths.values()} == {24}

    bethune = tenants["ccas-bethune"]
    own = list(db.session.scalars(select(Module).where(Module.tenant_id == bethune.id)))
    assert len(own) == 1 and own[0].status is CatalogueStatus.PUBLISHED
    assert db.session.get(TrainingSettings, bethune.id).default_path_id == paths["Aidant numérique — niveau 1"].id

    awards = list(db.session.scalars(select(QualificationAward).where(QualificationAward.withdrawn_at.is_(None))))
    expiring = {a.user.email for a in awards if now < a.expires_at <= now + timedelta(days=30)}
    expired = {a.user.email for a in awards if a.expires_at <= now}
    valid = {a.user.email for a in awards if a.expires_at > now + timedelta(days=30)}
    assert "benevole1@ccas-bethune.example.org" in expiring
    assert "benevole2@ccas-bethune.example.org" in expired
    assert "formation@ccas-bethune.example.org" in valid
    assert len({a.user_id for a in awards}) >= 5
    assert all(a.awarded_at <= now for a in awards)

    # Attestations came with the completions; one was withdrawn with its qualification.
    attestations = list(db.session.scalars(select(Attestation)))
    assert any(a.path_id is not None for a in attestations)
    assert sum(a.withdrawn_at is not None for a in attestations) == 1
