"""Small numpy helpers shared by the data modules."""
import numpy as np


def readonly(array: np.ndarray) -> np.ndarray:
  """Returns a read-only view of `array`, so a shared (cached) array cannot be changed by accident.

  The caller's own array keeps its flags; only the returned view is locked.
  """
  view = array.view()
  view.flags.writeable = False
  return view
