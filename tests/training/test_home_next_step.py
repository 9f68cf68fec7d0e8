"""The structure's home shows the person's next training step (issue 9 made it
read only what that choice needs, ``home_next_step``): in every situation it
is the step "Ma formation" shows (``training_overview``), and it takes a fixed
number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import g

from tests.factories import make_member, make_membership, page_text
from tests.training.factories import (
    assign_to,
    complete_module,
    learning_version,
    make_module,
    make_path,
    wrong_answers,
)
from volunteer_platform.db import utcnow
from volunteer_platform.extensions import db
from volunteer_platform.training import services
from volunteer_platform.training.views.learner import home_next_step, training_overview


def both_steps(app, tenant, user):
    """(home's next step, my training's next step) as comparable tuples."""
    with app.test_request_context(f"/{tenant.slug}/"):
        g.tenant = tenant
        db.session.expire_all()
        home = home_next_step(user, tenant)
        full = training_overview(user, tenant).next_step

    def plain(step):
        return None if step is None else (step.version.id, step.lesson.id if step.lesson else None, step.url,
                                          str(step.label))
    return plain(home), plain(full)


def read(user, module, tenant, lessons=1, *, now=None):
    for lesson in learning_version(module).lessons[:lessons]:
        services.mark_lesson_read(user, lesson, tenant, now=now or utcnow())
    db.session.commit()


@pytest.fixture
def person(tenant_a):
    return make_member(tenant_a, "volunteer", email="learner@example.org")


def test_nothing_to_do(app, tenant_a, person):
    make_module(None, title="Au catalogue")
    home, full = both_steps(app, tenant_a, person)
    assert home == full is None


def test_the_module_last_worked_on_comes_first(app, tenant_a, person):
    first, second = make_module(None, title="Premier"), make_module(None, title="Second", lessons=2)
    read(person, first, tenant_a, now=utcnow() - timedelta(hours=2))
    read(person, second, tenant_a, now=utcnow() - timedelta(hours=1))
    home, full = both_steps(app, tenant_a, person)
    assert home == full and home[0] == learning_version(second).id
    assert home[1] == learning_version(second).lessons[1].id and home[3] == "Reprendre"


def test_a_module_with_only_its_quiz_left(app, tenant_a, person):
    module = make_module(None, title="Quiz à faire", lessons=2, questions=1)
    read(person, module, tenant_a, lessons=2)
    services.submit_quiz(person, learning_version(module), tenant_a, wrong_answers(learning_version(module)),
                         now=utcnow())
    db.session.commit()
    home, full = both_steps(app, tenant_a, person)
    assert home == full and home[3] == "Faire le quiz"


def test_the_next_step_of_the_path_due_first(app, tenant_a, person):
    steps = [make_module(None, title=f"Étape {i}") for i in range(3)]
    other = [make_module(None, title=f"Autre {i}") for i in range(2)]
    assign_to(tenant_a, person, path=make_path(None, other, title="A — sans date"))
    assign_to(tenant_a, person, path=make_path(None, steps, title="Z — bientôt"),
              due_on=date.today() + timedelta(days=5))
    complete_module(person, steps[0], tenant_a)
    home, full = both_steps(app, tenant_a, person)
    assert home == full and home[0] == learning_version(steps[1]).id and home[3] == "Commencer"


def test_a_path_whose_next_step_is_archived_is_skipped(app, tenant_a, person):
    archived = make_module(None, title="Retiré", archive=True)
    later = make_module(None, title="Suivant")
    assign_to(tenant_a, person, path=make_path(None, [archived, later], title="Parcours"))
    asked = make_module(None, title="Demandé")
    assign_to(tenant_a, person, module=asked)
    home, full = both_steps(app, tenant_a, person)
    assert home == full and home[0] == learning_version(asked).id


def test_modules_asked_come_by_due_date_then_title(app, tenant_a, person):
    modules = {title: make_module(None, title=title) for title in ("Bravo", "Alpha", "Charlie", "Delta")}
    assign_to(tenant_a, person, module=modules["Bravo"], due_on=date.today() + timedelta(days=3))
    assign_to(tenant_a, person, module=modules["Charlie"], due_on=date.today() + timedelta(days=3))
    assign_to(tenant_a, person, module=modules["Alpha"])
    assign_to(tenant_a, person, module=modules["Delta"], due_on=date.today() + timedelta(days=1))
    complete_module(person, modules["Delta"], tenant_a)
    home, full = both_steps(app, tenant_a, person)
    assert home == full and home[0] == learning_version(modules["Bravo"]).id


def test_a_started_but_completed_module_is_not_in_progress(app, tenant_a, person):
    done, asked = make_module(None, title="Fini"), make_module(None, title="Demandé")
    complete_module(person, done, tenant_a)
    assign_to(tenant_a, person, module=asked)
    home, full = both_steps(app, tenant_a, person)
    assert home == full and home[0] == learning_version(asked).id


def test_another_structures_assignments_do_not_count(app, tenant_a, tenant_b, person):
    make_membership(tenant_b, person, "volunteer")
    theirs = make_module(None, title="Demandé ailleurs")
    assign_to(tenant_b, person, module=theirs)
    own = make_module(tenant_b, title="Module de B")
    read(person, own, tenant_b)
    home, full = both_steps(app, tenant_a, person)
    assert home == full is None
    home_b, full_b = both_steps(app, tenant_b, person)
    assert home_b == full_b and home_b[0] == learning_version(own).id


def test_the_home_shows_the_step_in_a_fixed_number_of_queries(client, login_as, count_queries, tenant_a, person):
    def queries_for_home() -> int:
        client.get(f"/{tenant_a.slug}/")
        with count_queries() as queries:
            response = client.get(f"/{tenant_a.slug}/")
        assert response.status_code == 200
        return len(queries)

    login_as(person)
    first = make_module(None, title="Premiers pas", lessons=2)
    assign_to(tenant_a, person, path=make_path(None, [first], title="Parcours un"))
    read(person, first, tenant_a)  # something started, as below (one more query: the last one touched)
    few = queries_for_home()
    for i in range(8):
        module = make_module(None, title=f"Module {i}")
        assign_to(tenant_a, person, module=module)
        read(person, module, tenant_a)
        assign_to(tenant_a, person, path=make_path(None, [module], title=f"Parcours {i}"))
    many = queries_for_home()
    assert few == many
    assert "Votre formation : " in page_text(client.get(f"/{tenant_a.slug}/"))
