"""coverplan: coverage planning for satellite and mobile networks in mountains."""

import logging

from coverplan.errors import CoverplanError, InputError
from coverplan.raster import Raster

__version__ = "0.1.0"

__all__ = ["CoverplanError", "InputError", "Raster", "__version__"]

logging.getLogger(__name__).addHandler(logging.NullHandler())
