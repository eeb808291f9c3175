"""Home page and language switch."""

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.spaces.models import SPACE_TYPES, Space
from app.web.main import bp


@bp.get("/")
def index():
    spaces = db.session.scalars(
        select(Space)
        .where(Space.published.is_(True))
        .options(selectinload(Space.owner))
        .order_by(Space.created_at.desc(), Space.id.desc())
        .limit(6)
    ).all()
    count = db.session.scalar(select(func.count(Space.id)).where(Space.published.is_(True)))
    return render_template("main/index.html", spaces=spaces, count=count, types=SPACE_TYPES)


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "ko")
    if lang not in ("ko", "en"):
        lang = "ko"
    session["locale"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    target = request.form.get("next") or url_for("main.index")
    # Only ever go back to a page of this site.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    return redirect(target)
