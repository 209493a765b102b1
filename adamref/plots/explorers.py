"""Every chapter's explorer in one table: what it draws and its controls.

A notebook's explorer cell is two lines and needs nothing run before it::

    from adamref.plots.explorers import explore
    explore("moments")

The built book draws the same explorers offline (``_ext/static_explorers.py``
calls ``render_static`` with each control's ``static`` values).
"""

from __future__ import annotations

from adamref.lab import seed_regression as seed_lab
from adamref.lab import the_family as family_lab
from adamref.plots import (basis_and_conditioning, bias_correction, frameworks,
                           from_sgd_to_adam, generalization, memory_and_compute, moments,
                           noisy_gradients, non_convergence, per_parameter_steps,
                           seed_regression, sensitivity, the_family)
from adamref.plots.widgets import (Control, Explorer, Spec, beta_control, choice, log_control,
                                   stepped, toggle)


def _specs() -> dict[str, Spec]:
    return {
        "basis_and_conditioning": Spec(
            basis_and_conditioning.draw_bowl, figsize=(11, 4.4), controls=dict(
                angle=stepped("rotation φ (°)", 20.0, (0.0, 5.0, 10.0, 20.0, 30.0, 45.0),
                              static=(0.0, 20.0, 45.0)),
                condition_number=stepped("κ", 100.0, (10.0, 30.0, 100.0, 300.0, 1000.0),
                                         static=(100.0, 1000.0)),
                adam_lr=log_control("Adam's α", 0.2, 1e-3, 10.0, static=(0.05, 0.2, 1.0))),
            usage="Turn the bowl: GD's and heavy ball's curves stay put, Adam's move."),
        "bias_correction": Spec(
            bias_correction.draw_bias_correction, figsize=(11, 4), controls=dict(
                beta2=beta_control("β2", 0.9999, static=(0.99, 0.999, 0.9999)),
                lr=log_control("α (lr)", 1e-2, 1e-4, 1.0, static=(1e-3, 1e-2, 1e-1)),
                bias_correction=toggle("bias correction", True)),
            usage="Switch bias correction off at β2 = 0.9999 and watch the first steps."),
        "frameworks": Spec(
            frameworks.draw_epsilon_forms, figsize=(11, 4.2), controls=dict(
                eps=log_control("ε (PyTorch)", 1e-8, 1e-12, 1e-1, decades_only=True,
                                static=(1e-8, 1e-4)),
                eps_hat=log_control("ε̂ (Keras)", 1e-7, 1e-12, 1e-1, decades_only=True,
                                    static=(1e-7, 1e-3)),
                t=stepped("step t", 1, (1, 2, 5, 10, 20, 50, 100, 1000, 5000),
                          static=(1, 10, 1000), starts_at_bound=True)),
            usage="Raise ε or ε̂ until the two forms part; move t to see where they meet again."),
        "from_sgd_to_adam": Spec(
            from_sgd_to_adam.draw_lineage, figsize=(11, 4.2), controls=dict(
                problem=choice("problem", "quadratic", ("quadratic", "rosenbrock")),
                lr=log_control("α (RMSprop, Adam)", 0.1, 1e-3, 1.0, static=(0.01, 0.1, 0.5)),
                sgd_lr=log_control("α (SGD, Momentum)", 0.01, 1e-4, 0.1),
                beta1=beta_control("β1", 0.9, static=(0.0, 0.9)),
                beta2=beta_control("β2", 0.999),
                noise=stepped("noise σ", 0.0, (0.0, 0.1, 0.2, 0.5, 1.0, 2.0), static=(0.0, 0.5),
                              starts_at_bound=True)),
            usage="Add noise, or set β1 = 0, and compare the four paths."),
        "generalization": Spec(
            generalization.draw_overfitting, figsize=(12, 4.2), controls=dict(
                lr=log_control("α (lr)", 0.01, 1e-4, 2.0, static=(1e-3, 1e-2, 1e-1)),
                weight_decay=log_control("λ (weight decay)", 0.1, 1e-3, 10.0,
                                         static=(1e-2, 0.1, 1.0)),
                decoupled=toggle("decoupled (AdamW)", True)),
            usage="Raise λ with and without decoupling; watch the test error's minimum move."),
        "memory_and_compute": Spec(
            memory_and_compute.draw_memory, figsize=(12, 4.2), controls=dict(
                billions=stepped("parameters (billions)", 7.0,
                                 (0.1, 0.3, 1.0, 3.0, 7.0, 13.0, 30.0, 70.0, 175.0, 405.0, 1000.0),
                                 static=(1.0, 7.0, 70.0, 405.0)),
                precision=choice("precision", "mixed", ("fp32", "mixed")),
                device_gb=stepped("device GB", 80.0,
                                  (8.0, 16.0, 24.0, 40.0, 48.0, 80.0, 96.0, 141.0, 192.0),
                                  static=(24.0, 80.0))),
            usage="Pick a model size and a device: does Adam's state still fit?"),
        "moments": Spec(
            moments.draw_moments, figsize=(9, 6.6), controls=dict(
                beta1=beta_control("β1", 0.9, static=(0.5, 0.9, 0.99)),
                beta2=beta_control("β2", 0.999, static=(0.9, 0.99, 0.999)),
                noise=stepped("noise σ", 1.0, (0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
                              static=(0.0, 1.0, 2.0))),
            usage="Try β2 = 0.9 for a quick but noisy v̂, or noise 0 for the lag alone."),
        "noisy_gradients": Spec(
            noisy_gradients.draw_noise, figsize=(11, 4), controls=dict(
                noise=stepped("noise σ", 1.0, (0.0, 0.5, 1.0, 2.0, 5.0, 10.0),
                              static=(0.0, 1.0, 5.0)),
                lr=log_control("α (lr)", 1e-2, 1e-4, 1.0, static=(1e-3, 1e-2, 1e-1))),
            usage="Raise the noise at a fixed α: which optimizer's final loss grows first?"),
        "non_convergence": Spec(
            non_convergence.draw_online, figsize=(11, 4.2), controls=dict(
                C=stepped("C (β2 = 1/(1+C²))", 3.0, (2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0),
                          static=(2.5, 3.0, 10.0)),
                lr=log_control("α (lr)", 0.1, 1e-3, 10.0, static=(0.01, 0.1, 1.0))),
            usage="Raise C: Adam's iterate keeps drifting the wrong way, AMSGrad's does not."),
        "per_parameter_steps": Spec(
            per_parameter_steps.draw_per_coordinate_progress, figsize=(11, 4.2), controls=dict(
                lr=log_control("α (lr)", 0.01, 1e-4, 0.2, static=(1e-3, 1e-2, 1e-1)),
                eps=log_control("ε", 1e-8, 1e-12, 1e-1, decades_only=True,
                                static=(1e-8, 1e-3)),
                beta1=beta_control("β1", 0.9),
                beta2=beta_control("β2", 0.999),
                steps=stepped("steps", 400, (50, 100, 200, 400, 1000, 2000))),
            usage="Raise ε towards the gradients' scale and watch Adam turn into SGD."),
        "seed_regression": Spec(
            seed_regression.draw_seed_regression, figsize=(11, 4.2), controls=dict(
                lr=log_control("α (lr)", seed_lab.LEARNING_RATE, 1e-3, 1.0,
                               static=(1e-3, 1e-2, 1e-1)),
                epochs=stepped("epochs", seed_lab.EPOCHS, (10, 25, 50, 100, 200, 500),
                               static=(25, 100)),
                batch_size=stepped("batch size", 32, (1, 4, 8, 16, 32, 64, 100),
                                   static=(8, 32)),
                noise=stepped("noise σ", seed_lab.NOISE, (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0))),
            usage="Shrink the batch or raise α: when does the fitted slope stop settling?"),
        "the_family": Spec(
            the_family.draw_streams, figsize=(11, 4.2), controls=dict(
                # a slider over the variants in the chapter's order (stepped would sort them)
                variant=Control("variant", "Yogi", tuple(family_lab.VARIANTS),
                                static=tuple(family_lab.VARIANTS)),
                stream=choice("gradient", "shrinks ×100", family_lab.STREAMS)),
            usage="Pick a variant and a gradient stream: where does its step part from Adam's?"),
        "sensitivity": Spec(
            sensitivity.draw_sensitivity, figsize=(12, 4.3), controls=dict(
                problem=choice("problem", "least squares", ("least squares", "Rosenbrock")),
                steps=stepped("steps", 500, (100, 200, 500, 1000, 2000)),
                beta1=beta_control("β1", 0.9, static=(0.0, 0.9)),
                eps=log_control("ε", 1e-8, 1e-12, 1e2, decades_only=True, static=(1e-8, 1e-2)),
                momentum=stepped("SGD μ", 0.9, (0.0, 0.5, 0.9, 0.95, 0.99))),
            usage="Raise ε: Adam's good band of α moves and widens like SGD's."),
    }


EXPLORERS: dict[str, Spec] = _specs()


def spec(name: str) -> Spec:
    """The explorer called ``name`` (a chapter's name)."""
    if name not in EXPLORERS:
        raise ValueError(f"name must be one of {sorted(EXPLORERS)}, got {name!r}")
    return EXPLORERS[name]


def explore(name: str) -> Explorer:
    """The live explorer of chapter ``name``, at its default values."""
    chosen = spec(name)
    return Explorer(chosen.draw, chosen.controls, figsize=chosen.figsize,
                    hint=f"Explorer ({name}): run this cell, then move a control. "
                         f"{chosen.usage}")
