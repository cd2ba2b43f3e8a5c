"""Emoji data: fetches emoji-datasource-google from the npm registry into a cache and builds
64x64 RGB images (composited on white) with captions and subcategory labels."""
import json
import os
import subprocess
import tarfile

import numpy as np
from PIL import Image

PACKAGE = 'emoji-datasource-google'
VERSION = '16.0.0'
HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get('EMOJI_CACHE', os.path.join(HERE, '.cache'))
TONES = {'1F3FB': 'light', '1F3FC': 'medium-light', '1F3FD': 'medium', '1F3FE': 'medium-dark', '1F3FF': 'dark'}


def fetch_package():
    """The package tarball via npm pack (the npm registry is the one source reachable here)."""
    os.makedirs(CACHE, exist_ok=True)
    root = os.path.join(CACHE, 'package')
    if os.path.exists(os.path.join(root, 'emoji.json')):
        return root
    tarball = os.path.join(CACHE, f'{PACKAGE}-{VERSION}.tgz')
    if not os.path.exists(tarball):
        subprocess.run(['npm', 'pack', f'{PACKAGE}@{VERSION}'], cwd=CACHE, check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name in ('package/emoji.json', 'package/LICENSE')
                   or m.name.startswith('package/img/google/64/')]
        tar.extractall(CACHE, members=members)
    return root


def base_name(entry):
    name = entry.get('name') or entry['short_name'].replace('_', ' ')
    return name.lower()


def load_rgb(path):
    rgba = Image.open(path).convert('RGBA').resize((64, 64), Image.LANCZOS)
    white = Image.new('RGBA', rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, rgba).convert('RGB'), dtype=np.uint8)


def load_dataset():
    """images uint8 [N,64,64,3]; records: name (caption base), subcategory, emoji (index of the base emoji)."""
    cached = os.path.join(CACHE, 'emoji64.npz')
    if os.path.exists(cached):
        data = np.load(cached, allow_pickle=False)
        return data['images'], json.loads(str(data['records']))
    root = fetch_package()
    entries = json.load(open(os.path.join(root, 'emoji.json')))
    entries = [e for e in entries if e.get('has_img_google') and e['category'] != 'Component']
    entries.sort(key=lambda e: e['sort_order'])
    images, records = [], []
    for index, entry in enumerate(entries):
        name = base_name(entry)
        variants = [(entry['image'], name)]
        for key, variant in sorted((entry.get('skin_variations') or {}).items()):
            if not variant.get('has_img_google'):
                continue
            tone = TONES.get(key)
            variants.append((variant['image'], f'{name}, {tone} skin tone' if tone else name))
        for image, caption in variants:
            path = os.path.join(root, 'img', 'google', '64', image)
            if not os.path.exists(path):
                continue
            images.append(load_rgb(path))
            records.append({'name': caption, 'base': name, 'subcategory': entry['subcategory'],
                            'category': entry['category'], 'emoji': index})
    images = np.stack(images)
    np.savez(cached, images=images, records=json.dumps(records))
    return images, records


def captions_for(name):
    """A few phrasings of one emoji name, as people would prompt for it."""
    article = 'an' if name[0] in 'aeiou' else 'a'
    return [name, f'{article} {name}', f'{name} emoji', f'an emoji of {article} {name}']


if __name__ == '__main__':
    imgs, recs = load_dataset()
    print(imgs.shape, len(recs), len({r['subcategory'] for r in recs}), len({r['emoji'] for r in recs}))
