// ESLint over src/ (`npm run lint`): the import rules of the repository.
//
//  - No import cycle over value imports (`import-x/no-cycle`): a subpath imported first, alone, must
//    not evaluate a module before the ones it depends on are initialised.
//  - Internal modules never load a public one (`no-restricted-imports` in src/internal/): what both
//    need at run time lives under src/internal/, and the public modules re-export it. Types may cross.
//  - No `import { type A } from` (nor `export { type A } from`) with only inline type specifiers:
//    under `verbatimModuleSyntax` it is emitted as `import {} from` and still loads the module, yet
//    both rules above take it for type-only. `import type { A }` loads nothing.
//  - Effect modules by their paths (`effect/Effect`, not `effect`): `@effect/eslint-plugin`'s rule.
//    (Its other rule, `dprint`, formats; Prettier does that here.)
//
// TypeScript 7 is the native compiler, with no JavaScript API, so the files are parsed by Babel's
// TypeScript syntax (`@babel/eslint-parser`), not by typescript-eslint's parser: this is syntax only,
// and `tsc --noEmit` does the type checking. `@effect/eslint-plugin` needs `@typescript-eslint/utils`
// for its rule helpers alone (no parsing); package.json's `overrides` lets it take this TypeScript.
//
// One known excess of `import-x/no-cycle`: it takes an `export type ... from` statement of the file
// it checks for a value import, so an internal module that re-exports a public module's types that
// way is reported in a cycle with it. Write `export type A = Public.A` instead.
//
// Run over a directory of its own with `eslint --config <this file> src` from that directory (as
// test/check-imports.test.ts does): the paths below are relative to the working directory then.
import babelParser from "@babel/eslint-parser"
import babelTypeScript from "@babel/preset-typescript"
import effectPlugin from "@effect/eslint-plugin"
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript"
import importX from "eslint-plugin-import-x"

/** Imports whose every binding is an inline `type` specifier. */
const IMPORT_INLINE_TYPES_ONLY = [
  "ImportDeclaration[importKind='value'][specifiers.length>0]",
  ":not(:has(ImportSpecifier[importKind='value']))",
  ":not(:has(ImportDefaultSpecifier))",
  ":not(:has(ImportNamespaceSpecifier))"
].join("")

/** Re-exports (`export { ... } from`) whose every name is an inline `type` specifier. */
const EXPORT_INLINE_TYPES_ONLY = [
  "ExportNamedDeclaration[exportKind='value'][source][specifiers.length>0]",
  ":not(:has(ExportSpecifier[exportKind='value']))"
].join("")

export default [
  {
    files: ["src/**/*.ts"],
    languageOptions: {
      parser: babelParser,
      parserOptions: {
        requireConfigFile: false,
        babelOptions: { babelrc: false, configFile: false, presets: [babelTypeScript] }
      }
    },
    plugins: { "@effect": effectPlugin, "import-x": importX },
    settings: {
      "import-x/extensions": [".ts"],
      "import-x/parsers": { "@babel/eslint-parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver()]
    },
    rules: {
      "import-x/no-cycle": "error",
      "no-restricted-syntax": [
        "error",
        {
          selector: IMPORT_INLINE_TYPES_ONLY,
          message:
            "Write `import type { ... }`: with only inline `type` specifiers, this import still loads its module."
        },
        {
          selector: EXPORT_INLINE_TYPES_ONLY,
          message:
            "Write `export type { ... } from`: with only inline `type` specifiers, this re-export still loads its module."
        }
      ],
      "@effect/no-import-from-barrel-package": [
        "error",
        { packageNames: ["effect", "@effect/platform", "@effect/platform-node", "@effect/rpc"] }
      ]
    }
  },
  {
    files: ["src/internal/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["../*"],
              allowTypeImports: true,
              message:
                "An internal module loads no public module (an import cycle): import it with `import type`, or move what both need into src/internal/."
            }
          ]
        }
      ]
    }
  }
]
