"""Errors of the project's services, shared by every app: a refused action says why."""


class CaseActionError(Exception):
    """A request to change a case that cannot be carried out; `message` says why."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotPermitted(CaseActionError):
    """The acting user's role does not allow the action."""


class WrongState(CaseActionError):
    """The case is not in a state where the action applies."""


class EditConflict(CaseActionError):
    """Someone else saved the case after the editor loaded it."""

    def __init__(self, message, *, current):
        super().__init__(message)
        self.current = current
