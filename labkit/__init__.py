"""labkit: the small PyTorch library behind the course "GANs for synthetic image generation".

A map (each module is meant to be read in one sitting):

- ``labkit.runtime``      device choice (CUDA, MPS, CPU), seeding, mixed precision
- ``labkit.params``       notebook parameters: profiles (``quick``/``paper``), validation, the typed cell
- ``labkit.runs``         the one way to start a run: a spec per kind (GAN, classifier, CycleGAN)
                          and ``fit(spec, data, epochs)``
- ``labkit.data``         datasets as in-memory tensors with ``classes`` (``data.mnist``, ...)
- ``labkit.models``       networks, one module per family, a registry by name (``models.registry``),
                          Keras-style parameter counts
- ``labkit.augment``      classic batch augmentation (flips, zoom, shear) and DiffAugment, by name
- ``labkit.losses``       GAN objectives (BCE with label smoothing, least squares, WGAN-GP, weighted cycle)
- ``labkit.train``        one training core (history, grids, checkpoints, exact resume, schedulers,
                          NaN and divergence stop) and the trainers on it (GAN, classifier, CycleGAN)
- ``labkit.metrics``      classifier score, Inception Score and FID on a classifier's
                          features, per-class accuracy, confusion matrices
- ``labkit.pca``          PCA per class as a (linear) generative baseline
- ``labkit.plots``        figures; ``labkit.widgets`` ipywidgets views
- ``labkit.report``       the tables and sentences a chapter shows, built from its results
- ``labkit.show``         a function's real source, highlighted, for the page that teaches it
- ``labkit.runner``       papermill runs and parameter sweeps, on Ray or serially
- ``labkit.console``      live progress of a batch run on the terminal (``LABKIT_CONSOLE``)
- ``labkit.experiments``  the experiment recipes a chapter and its sweep share
"""

__version__ = "0.1.0"

from labkit import console as _console  # noqa: E402

_console.enable_from_env()  # a no-op unless course.py (or you) set LABKIT_CONSOLE in a kernel
