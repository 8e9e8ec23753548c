from . import mmaction_registry  # noqa: F401
from . import mmpretrain_registry  # noqa: F401
from . import backbones, dense_heads, layers, roi_heads  # noqa: F401
