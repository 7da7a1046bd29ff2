// What the rule editor starts from and what it sends: the script alone, or the template form
// it was generated from when it is unchanged (then publishing needs no plan feature).
import type { Schemas } from '../api/client';
import { defaultForm, templateToForm, type Json, type TemplateForm } from './template';

type Version = Schemas['VersionView'];
type TriggerRules = Schemas['TriggerRules'];

/** The script last generated from the form, and that form as the API takes it. */
export interface Generated {
  script: string;
  template: Json;
}

export interface EditorStart {
  form: TemplateForm;
  script: string;
  generated?: Generated;
}

/**
 * Where editing starts: the saved draft if there is one, else the version in force, else an
 * empty script and the trigger's default form. The form shows the template the script came
 * from, when it came from one.
 */
export function editorStart(trigger: string, entry: TriggerRules | undefined, versions: readonly Version[], digits = 2): EditorStart {
  const draft = entry?.draft;
  const active = versions.find((v) => v.active);
  const source = draft ?? active;
  const script = source?.script ?? '';
  const template = source?.template;
  const isTemplate = template !== undefined && template !== null && typeof template === 'object';
  return {
    form: isTemplate ? templateToForm(template, digits) : defaultForm(trigger),
    script,
    generated: isTemplate && script ? { script, template: template as Json } : undefined,
  };
}

/** Whether the script differs from what the form generated (or was never generated). */
export function isHandEdited(script: string, generated: Generated | undefined): boolean {
  return !generated || script !== generated.script;
}

/** The `script` or `template` part of a draft or publish request for the editor's state. */
export function sourceBody(script: string, generated: Generated | undefined): { script: string } | { template: Json } {
  return generated && !isHandEdited(script, generated) ? { template: generated.template } : { script };
}
