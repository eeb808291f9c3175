"""The baseline: a bare Flask app with one JSON endpoint, served by the same gunicorn setup as the
real app, so every figure in the benchmark can be read as a fraction of "Flask doing nothing"."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return {"ok": True}
