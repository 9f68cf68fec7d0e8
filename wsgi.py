"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""

from volunteer_platform import create_app

app = create_app()
