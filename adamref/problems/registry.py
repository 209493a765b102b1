"""The optimizers the chapters compare, by name: one registry for the book.

``make_optimizer(name, lr, **options)`` builds optimizer ``name`` with learning
rate ``lr`` (a number, or an array broadcasting against the parameters: one
column of K learning rates runs K configurations at once; ``None`` keeps the
optimizer's own default) and any further hyperparameters of that optimizer.
"""

from __future__ import annotations

from adamref.optim.adam import Adam, keras_adam
from adamref.optim.baselines import SGD, AdaGrad, RMSprop
from adamref.optim.adamax import AdaMax
from adamref.optim.family import AdaBelief, NAdam, Yogi
from adamref.optim.sign import Lion, SignSGD

_FACTORIES = {
    "SGD": lambda **h: SGD(**h),                                  # no momentum
    "Momentum": lambda momentum=0.9, **h: SGD(momentum=momentum, **h),   # heavy ball
    "RMSprop": lambda **h: RMSprop(**h),
    "AdaGrad": lambda **h: AdaGrad(**h),
    "Adam": lambda **h: Adam(**h),
    "AMSGrad": lambda **h: Adam(amsgrad=True, **h),
    # Keras spells the learning rate ``learning_rate`` (and so does keras_adam)
    "Keras Adam": lambda lr=None, **h: keras_adam(**h) if lr is None
    else keras_adam(learning_rate=lr, **h),
    # Part V, "Beyond Adam"
    "NAdam": lambda **h: NAdam(**h),
    "AdaMax": lambda **h: AdaMax(**h),
    "Yogi": lambda **h: Yogi(**h),
    "AdaBelief": lambda **h: AdaBelief(**h),
    "Lion": lambda **h: Lion(**h),
    "SignSGD": lambda **h: SignSGD(**h),                          # no momentum
    "Signum": lambda beta1=0.9, **h: SignSGD(beta1=beta1, **h),   # sign of the EMA m
}

#: Every name ``make_optimizer`` knows, in the book's order.
OPTIMIZERS = tuple(_FACTORIES)

#: The lineage the chapters compare, in order: plain SGD, + momentum,
#: + per-parameter scaling, both.
LINEAGE = ("SGD", "Momentum", "RMSprop", "Adam")

#: Adam's family (Part V, "Beyond Adam"), each compared with Adam.
FAMILY = ("NAdam", "AdaMax", "Yogi", "AdaBelief", "Lion", "SignSGD", "Signum")


def make_optimizer(name: str, lr=None, **options):
    """Optimizer ``name`` (one of ``OPTIMIZERS``): PyTorch's defaults except
    ``lr`` and ``options``; ``"Momentum"`` is SGD with μ = 0.9 unless
    ``momentum=`` says otherwise, ``"AMSGrad"`` Adam with ``amsgrad=True``,
    ``"Keras Adam"`` ``keras_adam`` (Keras' ε placement and defaults);
    ``"Signum"`` is SignSGD with β1 = 0.9 unless ``beta1=`` says otherwise."""
    if not isinstance(name, str) or name not in _FACTORIES:
        raise ValueError(f"name must be one of {list(OPTIMIZERS)}, got {name!r}")
    if lr is not None:
        options["lr"] = lr
    return _FACTORIES[name](**options)
