// The lesson's ESLint configuration, pinned by the rubric: every JavaScript file of the submission is
// linted with it, whatever the submission's own configuration says.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["coverage/**", "reports/**", "node_modules/**"] },
  js.configs.recommended,
  {
    files: ["**/*.{js,mjs,cjs}"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.browser, ...globals.node } },
    rules: { "no-unused-vars": "error", "no-var": "error", "prefer-const": "error", eqeqeq: "error" },
  },
];
