"""Every repository a unit of work opens, imported together when the first one is opened
(:meth:`dispatcher.store.uow.UnitOfWork.__enter__`), not when the unit of work is imported."""

from dispatcher.store.access import AccessTokenRepository
from dispatcher.store.approvals import ApprovalRepository
from dispatcher.store.audit import AuditRepository
from dispatcher.store.budgets import BudgetRepository
from dispatcher.store.caps import CapRepository
from dispatcher.store.chain_walk import ChainRepository
from dispatcher.store.optouts import OptOutRepository
from dispatcher.store.outreach import OutreachRepository
from dispatcher.store.reports import ReportRepository
from dispatcher.store.repository import Repository
from dispatcher.store.tracking import TrackingRepository
from dispatcher.store.workers import WorkerRepository

__all__ = [
    "AccessTokenRepository",
    "ApprovalRepository",
    "AuditRepository",
    "BudgetRepository",
    "CapRepository",
    "ChainRepository",
    "OptOutRepository",
    "OutreachRepository",
    "ReportRepository",
    "Repository",
    "TrackingRepository",
    "WorkerRepository",
]
