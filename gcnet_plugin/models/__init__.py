from . import mmaction_registry  # noqa: F401
from . import mmpretrain_registry  # noqa: F401
from . import backbones, layers, roi_heads  # noqa: F401
