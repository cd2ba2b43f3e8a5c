"""Draws the 100 evaluation prompts (emoji names, with their subcategory) with a fixed seed."""
import json
import os

import numpy as np

from common import HERE
from data import load_dataset


def main():
    _, records = load_dataset()
    base = {}
    for r in records:
        base.setdefault(r['emoji'], {'prompt': r['base'], 'subcategory': r['subcategory'], 'emoji': r['emoji']})
    keys = sorted(base)
    chosen = np.random.RandomState(9).choice(keys, 100, replace=False)
    prompts = [base[k] for k in sorted(chosen.tolist())]
    with open(os.path.join(HERE, 'eval-prompts.json'), 'w') as file:
        json.dump(prompts, file, indent=1)
        file.write('\n')
    print(len(keys), 'emoji; wrote', len(prompts), 'prompts')


if __name__ == '__main__':
    main()
