"""Who acts on a case, and what that lets them do: one place for the rules the case
services and the API apply to staff and citizens."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.roles import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a staff member (admin, officer, operator) or the citizen who filed a case.

    A citizen is a contact, not a user, so it has no role; the audit trail records
    `citizen:<contact id>` as its name.
    """

    name: str
    role: Role | None  # None: the citizen who filed the case
    user_id: int | None = None
    agency_id: int | None = None

    @classmethod
    def citizen(cls, contact_id: int, agency_id: int) -> Actor:
        """The citizen acting on their own case, within that case's agency."""
        return cls(f"citizen:{contact_id}", None, agency_id=agency_id)

    @property
    def is_citizen(self) -> bool:
        """A citizen's change is not announced back to them; the officers hear of it."""
        return self.role is None

    @property
    def sees_every_agency(self) -> bool:
        """Admins run the deployment and see every agency's cases."""
        return self.role is Role.ADMIN

    def may_see(self, agency_id: int) -> bool:
        """Admins see every agency; everyone else only their own."""
        return self.sees_every_agency or self.agency_id == agency_id

    @property
    def may_withdraw(self) -> bool:
        """Only the citizen (or an admin acting for them) withdraws a request."""
        return self.is_citizen or self.role is Role.ADMIN
