"""``flask seed-demo``: the demonstration data described in the README.

Idempotent in the sense that matters for ``make run``: with ``--if-empty`` it
does nothing when the database already has a structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from volunteer_platform.auth.services import create_user, join_tenant
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.impact.demo_content import seed_impact_demo
from volunteer_platform.scheduling.demo_content import seed_scheduling_demo
from volunteer_platform.tenants.models import Role, Tenant, TenantKind
from volunteer_platform.tenants.services import create_site, create_tenant, update_membership
from volunteer_platform.training.demo_content import seed_training_demo

DEMO_PASSWORD = "demo-benevolat-2026"
SUPERVISOR_EMAIL = "supervision@demo.example.org"
MULTI_EMAIL = "benevole-multi@demo.example.org"


@dataclass(frozen=True)
class DemoStructure:
    slug: str
    name: str
    kind: TenantKind
    region: str
    phone: str
    sites: tuple[tuple[str, str, str, str, str | None], ...]
    coordinator: str
    trainer: str
    volunteers: tuple[str, ...]


STRUCTURES = (
    DemoStructure(
        slug="ccas-bethune",
        name="CCAS de Béthune",
        kind=TenantKind.CCAS,
        region="Hauts-de-France",
        phone="03 21 00 00 01",
        sites=(
            ("Espace solidarité — centre", "12 rue de la République", "62400", "Béthune",
             "Rez-de-chaussée, accessible en fauteuil."),
            ("Antenne du Mont-Liébaut", "3 place des Tilleuls", "62400", "Béthune", None),
        ),
        coordinator="Nadia Lefebvre",
        trainer="Julien Dupont",
        volunteers=("Sophie Martin", "Karim Benali", "Monique Delattre", "Thomas Leroy", "Aïcha Diallo"),
    ),
    DemoStructure(
        slug="passerelle-lens",
        name="Point Passerelle de Lens",
        kind=TenantKind.POINT_PASSERELLE,
        region="Hauts-de-France",
        phone="03 21 00 00 02",
        sites=(
            ("Point Passerelle — gare", "8 boulevard Émile-Basly", "62300", "Lens",
             "Premier étage avec ascenseur."),
        ),
        coordinator="Marc Vasseur",
        trainer="Émilie Caron",
        volunteers=("Lucie Bernard", "Olivier Petit", "Fatima Haddad", "Jean-Pierre Morel", "Inès Robert"),
    ),
    DemoStructure(
        slug="mairie-roubaix",
        name="Mairie de Roubaix",
        kind=TenantKind.TOWN_HALL,
        region="Hauts-de-France",
        phone="03 20 00 00 03",
        sites=(
            ("Hôtel de ville — salle numérique", "17 Grand-Place", "59100", "Roubaix", None),
            ("Médiathèque de l'Alma", "2 rue de l'Alma", "59100", "Roubaix",
             "Accès de plain-pied."),
        ),
        coordinator="Céline Roussel",
        trainer="Youssef Amrani",
        volunteers=("Camille Dubois", "Pierre Lambert", "Nathalie Girard", "Hugo Fontaine", "Samira Khelifi"),
    ),
)

MULTI_NAME = "Bernard Leclercq"


def seed_demo(*, password: str = DEMO_PASSWORD) -> list[tuple[str, str]]:
    """Create the demo association, structures, sites and people; return (login, what)."""
    now = utcnow()
    logins: list[tuple[str, str]] = []

    supervisor = create_user(
        SUPERVISOR_EMAIL, "Claire Association", password, now=now, is_supervisor=True
    )
    logins.append((supervisor.email, "association staff (supervision)"))

    tenants: dict[str, Tenant] = {}
    for spec in STRUCTURES:
        tenant = create_tenant(
            slug=spec.slug,
            name=spec.name,
            kind=spec.kind,
            now=now,
            region=spec.region,
            contact_email=f"contact@{spec.slug}.example.org",
            contact_phone=spec.phone,
        )
        tenants[spec.slug] = tenant
        sites = [
            create_site(tenant, name=n, address=a, postal_code=pc, city=c, access_notes=notes)
            for n, a, pc, c, notes in spec.sites
        ]
        people = [
            (f"coordination@{spec.slug}.example.org", spec.coordinator, Role.COORDINATOR),
            (f"formation@{spec.slug}.example.org", spec.trainer, Role.TRAINER),
        ] + [
            (f"benevole{i}@{spec.slug}.example.org", name, Role.VOLUNTEER)
            for i, name in enumerate(spec.volunteers, start=1)
        ]
        for index, (email, name, role) in enumerate(people):
            user = create_user(email, name, password, now=now)
            membership = join_tenant(user, tenant, role)
            update_membership(membership, role=role, site_id=sites[index % len(sites)].id)
            logins.append((email, f"{role.value} at {spec.slug}"))

    multi = create_user(MULTI_EMAIL, MULTI_NAME, password, now=now)
    join_tenant(multi, tenants["ccas-bethune"], Role.VOLUNTEER)
    join_tenant(multi, tenants["passerelle-lens"], Role.VOLUNTEER)
    logins.append((multi.email, "volunteer at ccas-bethune and passerelle-lens"))
    seed_training_demo(tenants, supervisor, now=now)
    seed_scheduling_demo(tenants, now=now)
    seed_impact_demo(tenants, now=now)
    return logins


def database_is_empty() -> bool:
    return (db.session.scalar(select(func.count(Tenant.id))) or 0) == 0


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has data.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load the demonstration structures and people (password: demo-benevolat-2026)."""
    if not database_is_empty():
        if if_empty:
            click.echo("Database already has data: demo not loaded.")
            return
        raise click.ClickException("The database already has data; seed-demo needs an empty one.")
    logins = seed_demo()
    db.session.commit()
    click.echo(f"Demo data loaded. Every demo login uses the password: {DEMO_PASSWORD}")
    for email, what in logins:
        click.echo(f"  {email:45} {what}")
