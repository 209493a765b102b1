"""Learning-rate schedules: ``lr`` as a function of the step number t.

Every optimizer's ``lr`` may be a number, an array (a sweep) or one of these
schedules.  The optimizer evaluates the schedule once per step, with t = 1 at
the first step, and uses the value wherever it would use ``lr`` (so AdamW's
decay ``1 − α_t·λ`` follows it, as in PyTorch).  A schedule's rate ``lr`` may
itself be an array: ``inverse_sqrt(np.array([0.1, 0.3]))`` runs two base rates
with α/√t in one step.

Each schedule is validated when it is made (errors name the parameter and the
value), prints as the call that makes it, and records itself in a
``state_dict`` as its name and parameters (``config.lr = 'inverse_sqrt'``,
``config.lr.lr = 0.1``) so that ``load_state_dict`` can check it.

The values use + − × ÷ and √ only (correctly rounded, the same on every CPU),
except the cosine schedules, which call ``math.cos`` (the platform's libm).
"""

from __future__ import annotations

import math

import numpy as np

from adamref.optim import validation as check


class Schedule:
    """A learning rate as a function of t; subclasses define ``_value(t)``."""

    #: The name recorded in a state dict (the function that makes it).
    name = "schedule"

    def __init__(self, lr, **settings):
        self.lr = check.hyperparameter("lr", lr, low=0.0)
        self.settings = settings           # validated by the maker

    @property
    def shape(self) -> tuple:
        """The shape of a value: ``()`` unless ``lr`` is an array."""
        return np.shape(self.lr)

    def __call__(self, t: int):
        """The learning rate of step ``t`` (t = 1 at the first step)."""
        if type(t) is not int or t < 1:      # the optimizers' own t needs no check
            t = check.step_count("t", t)
        return self._value(t)

    def _value(self, t: int):
        raise NotImplementedError

    def config(self) -> dict:
        """The parameters that define it, for ``state_dict``: ``{"lr": ..., ...}``."""
        return {"lr": self.lr, **self.settings}

    def __repr__(self):
        args = ", ".join(f"{k}={np.asarray(v).tolist() if isinstance(v, np.ndarray) else v!r}"
                         for k, v in self.config().items())
        return f"{self.name}({args})"

    def __eq__(self, other):
        return (type(other) is type(self) and self.config().keys() == other.config().keys()
                and all(np.shape(a) == np.shape(b) and np.array_equal(a, b)
                        for a, b in zip(self.config().values(), other.config().values())))

    __hash__ = None


def _steps(name, value) -> int:
    return check.integer(name, value, low=1)


class _Constant(Schedule):
    name = "constant"

    def _value(self, t):
        return self.lr


class _InverseSqrt(Schedule):
    name = "inverse_sqrt"

    def _value(self, t):
        return self.lr / np.sqrt(float(t)) if isinstance(self.lr, np.ndarray) \
            else self.lr / math.sqrt(t)                       # α/√t


class _LinearWarmup(Schedule):
    name = "linear_warmup"

    def _value(self, t):
        warmup = self.settings["warmup_steps"]
        return self.lr * (t / warmup) if t < warmup else self.lr   # α·t/w, then α


class _CosineDecay(Schedule):
    name = "cosine_decay"

    def _value(self, t):
        steps, final = self.settings["decay_steps"], self.settings["final_lr"]
        progress = min(t, steps) / steps                         # 0 → 1 over decay_steps
        return final + (self.lr - final) * (0.5 * (1 + math.cos(math.pi * progress)))


class _WarmupCosine(Schedule):
    name = "warmup_cosine"

    def _value(self, t):
        warmup, steps = self.settings["warmup_steps"], self.settings["decay_steps"]
        final = self.settings["final_lr"]
        if t < warmup:
            return self.lr * (t / warmup)                        # α·t/w
        progress = min(t - warmup, steps) / steps                # then cosine over decay_steps
        return final + (self.lr - final) * (0.5 * (1 + math.cos(math.pi * progress)))


def constant(lr) -> Schedule:
    """``α_t = α``."""
    return _Constant(lr)


def inverse_sqrt(lr) -> Schedule:
    """``α_t = α/√t``: the step size of Kingma & Ba's convergence analysis and
    of Reddi et al.'s AMSGrad experiments."""
    return _InverseSqrt(lr)


def linear_warmup(lr, warmup_steps: int) -> Schedule:
    """``α_t = α·t/w`` for t < w, then ``α`` (w = ``warmup_steps``)."""
    return _LinearWarmup(lr, warmup_steps=_steps("warmup_steps", warmup_steps))


def _final(final_lr):
    final_lr = check.hyperparameter("final_lr", final_lr, low=0.0)
    if np.ndim(final_lr):
        raise TypeError(f"final_lr must be a number, got an array of shape {np.shape(final_lr)}")
    return final_lr


def cosine_decay(lr, decay_steps: int, final_lr=0.0) -> Schedule:
    """``α_t = f + (α − f)·(1 + cos(π·min(t, T)/T))/2`` with T = ``decay_steps``
    and f = ``final_lr``: from α towards f in T steps, then f."""
    return _CosineDecay(lr, decay_steps=_steps("decay_steps", decay_steps),
                        final_lr=_final(final_lr))


def warmup_cosine(lr, warmup_steps: int, decay_steps: int, final_lr=0.0) -> Schedule:
    """Linear warmup to α over ``warmup_steps``, then ``cosine_decay`` over
    ``decay_steps`` (counted from the end of the warmup)."""
    return _WarmupCosine(lr, warmup_steps=_steps("warmup_steps", warmup_steps),
                         decay_steps=_steps("decay_steps", decay_steps),
                         final_lr=_final(final_lr))


#: The schedules by name, as recorded in a state dict.
SCHEDULES = {"constant": constant, "inverse_sqrt": inverse_sqrt,
             "linear_warmup": linear_warmup, "cosine_decay": cosine_decay,
             "warmup_cosine": warmup_cosine}


def learning_rate(name: str, value):
    """A learning rate argument: a ``Schedule`` as it is, otherwise a
    hyperparameter ``>= 0`` (a number or an array)."""
    if isinstance(value, Schedule):
        return value
    return check.hyperparameter(name, value, low=0.0)
