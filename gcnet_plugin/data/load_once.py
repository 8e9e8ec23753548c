"""Load each sample once and keep it in memory: ``LoadOnce``.

A small dataset trained for several epochs decodes the same JPEGs and
rasterises the same polygons every epoch; on a CPU that is a share of
every iteration (docs/quickstart.md). ``LoadOnce`` runs its loading
transforms the first time it sees an image and returns a copy of that
result afterwards, so the random transforms after it see exactly what
they would have seen. It holds every sample it has loaded: for datasets
that fit in memory (the quickstart's 400 images: about 0.25 GB).
"""
import pickle
from typing import Dict, List, Union

from mmcv.transforms import BaseTransform, Compose
from mmdet.registry import TRANSFORMS

__all__ = ['LoadOnce']


@TRANSFORMS.register_module()
class LoadOnce(BaseTransform):
    """Run ``transforms`` once per ``img_path``; afterwards, copies of
    what they added to the sample (the rest of it, e.g. ``instances``,
    comes from the dataset as usual).

    Args:
        transforms (list[dict | callable]): Deterministic loading
            transforms, e.g. ``[dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_mask=True)]``. Random ones
            would be frozen at their first draw and are refused.

    Example::

        train_pipeline = [
            dict(type='LoadOnce', transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True,
                     with_mask=True)]),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackDetInputs')]
    """

    def __init__(self, transforms: List[Union[dict, callable]]) -> None:
        for t in transforms:
            name = t.get('type', '') if isinstance(t, dict) else type(t)
            if 'Random' in str(name):
                raise ValueError(
                    f'LoadOnce keeps its first result, so a random '
                    f'transform ({name}) would repeat one draw; put it '
                    'after LoadOnce in the pipeline')
        self.transforms = Compose(transforms)
        self._cache: Dict[str, bytes] = {}

    def transform(self, results: dict) -> dict:
        key = results['img_path']
        cached = self._cache.get(key)
        if cached is not None:
            # fresh copies of what the transforms added or replaced
            results.update(pickle.loads(cached))
            return results
        before = dict(results)
        loaded = self.transforms(results)
        if loaded is None:  # a transform dropped the sample
            return None
        added = {
            k: v
            for k, v in loaded.items() if k not in before or v is not before[k]
        }
        # pickled: loads() is a fast deep copy (numpy arrays, masks, boxes)
        self._cache[key] = pickle.dumps(added, pickle.HIGHEST_PROTOCOL)
        return loaded

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(transforms={self.transforms}, '
                f'cached={len(self._cache)})')
