"""reliability: finite-element thermo-mechanical reliability of semiconductor packages.

Units everywhere: mm, N, MPa, tonne, s, degrees C; warpage in micrometres.
"""

__version__ = "0.1.0"
