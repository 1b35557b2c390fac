from .cli import run

if __name__ == "__main__":  # not when a spawned process (ladder run --devices) imports it as __mp_main__
    run()
