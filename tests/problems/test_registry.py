"""``adamref.problems.registry``."""

import numpy as np
import pytest

import adamref
from adamref.problems.registry import LINEAGE, make_optimizer
from adamref.problems import FAMILY, LINEAGE, OPTIMIZERS, make_optimizer


def test_make_optimizer_builds_the_documented_optimizers():
    assert isinstance(make_optimizer("SGD", 0.1), adamref.SGD)
    assert make_optimizer("Momentum", 0.1)._hyper["momentum"] == 0.9
    assert isinstance(make_optimizer("RMSprop", 0.1), adamref.RMSprop)
    assert repr(make_optimizer("Adam", 0.1)) == repr(adamref.Adam(lr=0.1))


def test_every_registered_optimizer_builds_and_takes_options():
    for name in OPTIMIZERS:
        opt = make_optimizer(name, 0.1)
        theta = np.ones(3)
        opt.step(theta, np.ones(3))
        assert (theta < 1).all()
    assert LINEAGE == ("SGD", "Momentum", "RMSprop", "Adam")
    assert make_optimizer("Momentum", 0.1)._hyper["momentum"] == 0.9
    assert make_optimizer("Momentum", 0.1, momentum=0.5)._hyper["momentum"] == 0.5
    assert repr(make_optimizer("RMSprop")) == repr(adamref.RMSprop())
    assert repr(make_optimizer("Keras Adam", 0.01)) == repr(adamref.keras_adam(learning_rate=0.01))
    assert make_optimizer("AMSGrad").amsgrad
    with pytest.raises(ValueError, match=r"name must be one of \['SGD', .*\], got 'adam'"):
        make_optimizer("adam")



def test_the_family_is_registered():
    assert set(FAMILY) <= set(OPTIMIZERS)
    assert repr(make_optimizer("NAdam", 0.01)) == repr(adamref.NAdam(lr=0.01))
    assert repr(make_optimizer("Lion")) == repr(adamref.Lion())
    assert make_optimizer("Signum", 0.1).beta1 == 0.9
    assert make_optimizer("Signum", 0.1, beta1=0.5).beta1 == 0.5
    assert make_optimizer("SignSGD", 0.1).beta1 == 0.0
    assert isinstance(make_optimizer("AdaMax"), adamref.AdaMax)
    assert make_optimizer("Yogi", 0.1, initial_accumulator_value=0.0).initial_accumulator_value == 0
    assert make_optimizer("AdaBelief", 0.1).s is None
