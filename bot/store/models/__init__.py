"""SQLAlchemy 2 models, one module per part of the domain; import them from here.

Times are stored in UTC and always timezone-aware (`UTCDateTime`).
"""

from bot.store.models.base import Base, utcnow
from bot.store.models.cases import Case, CaseEvent, OfficerNotice, Rating
from bot.store.models.handoff import CannedReply, Handoff
from bot.store.models.knowledge import Broadcast, Explanation, QuestionGap, Subscription
from bot.store.models.outbox import Delivery, PlatformQuota, ZaloToken
from bot.store.models.people import Agency, Contact, Conversation, Message, Topic, User
from bot.store.models.tallies import CaseTally, CaseTallyDays

__all__ = [
    "Agency",
    "Base",
    "Broadcast",
    "CannedReply",
    "Case",
    "CaseEvent",
    "CaseTally",
    "CaseTallyDays",
    "Contact",
    "Conversation",
    "Delivery",
    "Explanation",
    "Handoff",
    "Message",
    "OfficerNotice",
    "PlatformQuota",
    "QuestionGap",
    "Rating",
    "Subscription",
    "Topic",
    "User",
    "ZaloToken",
    "utcnow",
]
