"""Extension objects, created without an app so any module can import them."""

from typing import TYPE_CHECKING, ClassVar

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Table

from app.db import Base

db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # `db.Model` is built by Flask-SQLAlchemy at runtime, so a type checker cannot follow it as
    # a base class; to it, the models' base is the declarative Base the runtime one copies.
    class Model(Base):
        __abstract__ = True
        # Every model maps one table (DeclarativeBase only promises a FromClause).
        __table__: ClassVar[Table]

else:
    Model = db.Model

migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Limits are declared where they apply (app.security.limits); the default key is the address.
limiter = Limiter(key_func=lambda: request.remote_addr or "unknown")
