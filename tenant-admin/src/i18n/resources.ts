// Every string of the console, by language. Each area of the console keeps its own pair of
// files (`locales/<area>.zh-CN.json` and `locales/<area>.en.json`, each holding its own
// top-level keys) beside the shared `zh-CN.json` and `en.json`; they are merged here.
import en from './locales/en.json';
import zhCN from './locales/zh-CN.json';

type Tree = Record<string, unknown>;

const areas = import.meta.glob<Tree>('./locales/*.*.json', { eager: true, import: 'default' });

function merge(base: Tree, lang: 'zh-CN' | 'en'): Tree {
  const out: Tree = { ...base };
  for (const [path, tree] of Object.entries(areas)) {
    if (!path.endsWith(`.${lang}.json`)) continue;
    for (const [k, v] of Object.entries(tree)) {
      if (k in out) throw new Error(`${path}: the key ${k} is defined twice`);
      out[k] = v;
    }
  }
  return out;
}

export const zh: Tree = merge(zhCN as Tree, 'zh-CN');
export const english: Tree = merge(en as Tree, 'en');
