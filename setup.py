"""Install gcnet_plugin: ``pip install -e . --no-deps``.

The dependencies are installed by ``tools/setup_env.sh`` (``make setup``)
because mmcv must be built from source against the installed torch; see
requirements.txt.
"""
from setuptools import find_packages, setup


def get_version() -> str:
    scope: dict = {}
    with open('gcnet_plugin/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='gcnet-plugin',
    version=get_version(),
    description='GCNet (Cao et al., 2019) for MMDetection 3.x: global '
    'context, non-local and SE blocks, configs and analysis tools.',
    packages=find_packages(include=['gcnet_plugin', 'gcnet_plugin.*']),
    python_requires='>=3.8',
    license='Apache-2.0',
)
