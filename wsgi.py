"""WSGI entry point: `gunicorn wsgi:app` (and FLASK_APP for the `flask` commands)."""

from app import create_app, logs

app = create_app()
logs.configure(app)
