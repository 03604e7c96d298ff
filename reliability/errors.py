"""The few exception types the project raises on purpose.

Every one of them carries a single-line message meant for the user: which file,
which key, which value, and what would have been accepted.  Only ``cli.py``
turns them into exit codes; library code just raises.
"""


class ReliabilityError(Exception):
    """Base class: an expected failure with a one-line explanation."""

    def __init__(self, message: str):
        # Keep the message on one line whatever the caller passed in.
        super().__init__(" ".join(str(message).split()))


class CaseError(ReliabilityError):
    """A case file is malformed or refers to something that does not exist."""


class MaterialError(ReliabilityError):
    """A material is unknown, malformed, or asked for outside its data range."""


class MeshError(ReliabilityError):
    """A mesh file cannot be used (missing, first order, no physical names...)."""


class GeometryError(ReliabilityError):
    """A package geometry is impossible (overlapping balls, negative thickness...)."""


class ConvergenceError(ReliabilityError):
    """A nonlinear solve did not converge after all step cut-backs."""
