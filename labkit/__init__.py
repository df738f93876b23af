"""labkit: the small PyTorch library behind the course "GANs for synthetic image generation".

A map (each module is meant to be read in one sitting):

- ``labkit.runtime``      device choice (CUDA, MPS, CPU), seeding, mixed precision
- ``labkit.params``       notebook parameters: profiles (``quick``/``paper``) and validation
- ``labkit.data``         datasets as in-memory tensors with ``classes`` (``data.mnist``, ...)
- ``labkit.models``       networks, one module per family, plus Keras-style parameter counts
- ``labkit.augment``      classic batch augmentation (flips, zoom, shear)
- ``labkit.losses``       GAN objectives (BCE with label smoothing, least squares, WGAN-GP)
- ``labkit.train``        one training core (history, grids, checkpoints, resume, NaN stop)
                          and the trainers built on it (GAN, classifier)
- ``labkit.metrics``      classifier score, Inception Score and FID on a classifier's
                          features, per-class accuracy, confusion matrices
- ``labkit.pca``          PCA per class as a (linear) generative baseline
- ``labkit.plots``        figures; ``labkit.widgets`` ipywidgets views
- ``labkit.runner``       papermill runs and parameter sweeps
- ``labkit.experiments``  the experiment recipes a chapter and its sweep share
"""

__version__ = "0.1.0"
