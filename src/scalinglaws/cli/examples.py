"""The Examples section of every command's --help: a few command lines that run as written (on bundled data, or on
files the lines before them write), kept here in one place and attached to the commands as they register."""

from __future__ import annotations

FIT = "dataset:chinchilla_epoch --where epoch_excluded=false"

EXAMPLES: dict[str, tuple[str, ...]] = {
    "fit": (f"scalinglaws fit {FIT} --law chinchilla --bootstrap 1000 -o fit.json",
            "scalinglaws fit runs.csv --map params=model_size --set dataset=web --law auto",
            f"scalinglaws fit {FIT} --law 'E + A*N**-alpha + B*D**-beta' --format markdown"),
    "predict": ("scalinglaws predict fit.json --at params=70B --at tokens=1.4T",
                "scalinglaws predict fit.json --at params=1e9,7e9,7e10 --at tokens=2e10,1.4e11,1.4e12 --format csv"),
    "laws": ("scalinglaws laws", "scalinglaws laws --json"),
    "completion": ("scalinglaws completion bash", "scalinglaws completion zsh"),
    "demo": ("scalinglaws demo", "scalinglaws demo --bootstrap 0"),
    "datasets": ("scalinglaws datasets", "scalinglaws datasets chinchilla_epoch"),
    "plan": ("scalinglaws plan fit.json --flops 5.76e23",
             "scalinglaws plan fit.json --flops 5.76e23 --inference-tokens 1e13",
             "scalinglaws plan fit.json --target-loss 2.0 --format latex",
             "scalinglaws plan vocab_fit.json --flops 1e21 --optimise vocab_size=4096:131072"),
    "next": ("scalinglaws next fit.json --at params=70B --at tokens=1.4T --budget 1e21",
             "scalinglaws next fit.json --at params=70B --at tokens=1.4T --until-width 5% --candidates rungs.csv"),
    "mix": ("scalinglaws fit mixtures.csv --law data_mixing --input r1=code_share --input r2=web_share --target "
            "code_loss,web_loss --shared none --bootstrap 200 -o mix.json",
            "scalinglaws mix mix.json --minimise code_loss --limit web_loss=2.6",
            "scalinglaws mix mix.json --minimise code_loss=0.5,web_loss=0.5 --simplex",
            "scalinglaws mix --domain-fit code.json --general-fit web.json -N 4.2e9 -D 84e9 --limit general=2.6"),
    "curate": ("scalinglaws curate pools.csv --samples 32e6,64e6,128e6,640e6 --top 4",),
    "approaches": ("scalinglaws approaches 'dataset:porian_isoflop?dataset=refinedweb&family=cosine_decay'",),
    "batch": ("scalinglaws batch --sweep sweep.csv --diverged 5 --params 1e9 --tokens 1e11 -o batch.json",
              "scalinglaws batch --fit batch.json --params 1e9 --target-loss 2.2 --max-steps 2e4"),
    "hparams": ("scalinglaws hparams --params 7e9 --tokens 1.4e12",
                "scalinglaws hparams --transfer-from lr=3e-3,width=256,wd=0.1 --to-width 1024",
                "scalinglaws hparams --sensitivity sweep.csv --init-loss 10.8"),
    "flops": ("scalinglaws flops --preset llama2-7b",
              "scalinglaws flops --layers 32 --width 4096 --heads 32 --vocab 32000"),
    "forecast": ("scalinglaws forecast my_run.csv --schedule 'cosine:peak=3e-4,total=24000,warmup=2000'",),
    "curve": ("scalinglaws fit 'dataset:multipower_lr_curves?size=25M&schedule=cosine|constant' --law schedule "
              "-o curve.json",
              "scalinglaws curve curve.json --schedule 'wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2'"),
    "best-schedule": ("scalinglaws best-schedule curve.json --family wsd --total 24000 --warmup 2160",),
    "backtest": ("scalinglaws backtest dataset:chinchilla_epoch --law all --cuts 2",
                 "scalinglaws backtest dataset:chinchilla_epoch --law chinchilla --format csv"),
    "compare": ("scalinglaws compare 'dataset:porian_isoflop?dataset=refinedweb&family=cosine_decay|tuned_no_decay' "
                "--by family --at flops=1e21 --law chinchilla",
                "scalinglaws compare zeroshot.csv --by model_type --target imagenet1k_acc1 --higher-better --pareto "
                "--at flops=1e21"),
    "downstream": ("scalinglaws downstream dataset:pythia_evals --where shots=0 --via lambada_openai__loss --task "
                   "piqa__acc --train 'params<2e9' --test 'params>5e9'",),
    "testtime": ("scalinglaws testtime samples.csv --k 1,10,100",),
    "emergence": ("scalinglaws emergence ladder.csv --test 'params>1e9' --k 1,10 --bootstrap 60",),
    "choices": ("scalinglaws choices --log samples_piqa_160m.jsonl=1.6e8 --log samples_piqa_410m.jsonl=4.1e8 "
                "--at params=2.8e9",),
    "calibrate": ("scalinglaws calibrate dataset:chinchilla_epoch --cuts 2 --bootstrap 20 -o calibration.json",),
    "plot": ("scalinglaws plot fit.json -o fit.png --title 'Our ladder' --dpi 200",
             "scalinglaws plot fit.json --kind all -o fit.pdf",
             "scalinglaws plot dataset:porian_isoflop -o runs.png"),
    "report": ("scalinglaws report fit.json -o report.html",
               "scalinglaws report fit.json curve.json --budget 1e23 --title 'Our ladder' -o report.html"),
    "ingest": ("scalinglaws ingest logs/ --map loss=train/loss --set params=160M --store runs.duckdb",
               "scalinglaws ingest history.csv --map loss=train/loss --set params=1.4B"),
    "store": ("scalinglaws store", "scalinglaws store --store runs.duckdb --json"),
    "ladder": ("scalinglaws ladder plan --flops 1.6e13 --rungs 5 -o ladder.toml",
               "scalinglaws ladder run ladder.toml", "scalinglaws ladder status ladder.toml"),
    "ladder plan": ("scalinglaws ladder plan --flops 1.6e13 --rungs 5 -o ladder.toml",
                    "scalinglaws ladder plan --flops 1e18 --device cuda --throughput measure --branches 0.25,0.5 "
                    "-o gpu.toml",
                    "scalinglaws ladder plan --flops 1.6e13 --hparams sweep.csv --corpus docs/ -o ladder.toml",
                    "scalinglaws ladder plan --flops 1.6e13 --tokenizer bpe --vocab-size 4096 -o bpe.toml"),
    "ladder run": ("scalinglaws ladder run ladder.toml",
                   "scalinglaws ladder run ladder.toml --until-width 5% --extra-budget 2e13",
                   "scalinglaws ladder run ladder.toml --ray local --ray-cpus 2",
                   "scalinglaws ladder run gpu.toml --devices 2"),
    "ladder status": ("scalinglaws ladder status ladder.toml", "scalinglaws ladder status ladder.toml --json"),
    "ladder sample": ("scalinglaws ladder plan --flops 2e12 --corpus addition:2 -o add.toml",
                      "scalinglaws ladder run add.toml",
                      "scalinglaws ladder sample add.toml -o samples.csv --samples 256",
                      "scalinglaws emergence samples.csv --test 'params>5e4' --k 1,10"),
}


def epilog(name: str) -> str | None:
    """The Examples section of one command, as its help shows it (one line per example)."""
    lines = EXAMPLES.get(name)
    if not lines:
        return None
    return "Examples:\n\n" + "\n\n".join(f"  {line}" for line in lines)


def _unset(value) -> bool:
    """Whether typer holds no epilog of the user's here (None, or its placeholder for a default)."""
    from typer.models import DefaultPlaceholder

    return value is None or isinstance(value, DefaultPlaceholder)


def attach(app, prefix: str = "") -> None:
    """Give every registered command, and every group of commands, its Examples section (a command's own epilog is
    kept); a group's commands are named `GROUP COMMAND`."""
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_cmd", "").replace("_", "-") if info.callback else None)
        if info.epilog is None and name is not None:
            info.epilog = epilog(prefix + name)
    for group in app.registered_groups:
        name = group.name or group.typer_instance.info.name
        if name is None:
            continue
        if _unset(group.epilog) and _unset(group.typer_instance.info.epilog):
            group.epilog = epilog(prefix + name)
        attach(group.typer_instance, prefix + name + " ")
