import { ApplicationCommandOptionType, ApplicationCommandType, ComponentType } from 'discord-api-types/v10';
import { FormErrors, apiError } from './errors.ts';
import type { UploadedFile } from './multipart.ts';

/** The fields of a create/edit message body the fake understands (Discord's snake_case JSON). */
export interface MessageBody {
  content?: string | null;
  embeds?: Record<string, unknown>[] | null;
  components?: Record<string, unknown>[] | null;
  attachments?: { id: string | number; filename?: string; description?: string; title?: string }[] | null;
  flags?: number | null;
  message_reference?: { message_id?: string; channel_id?: string; guild_id?: string; fail_if_not_exists?: boolean; type?: number } | null;
  allowed_mentions?: { parse?: string[]; users?: string[]; roles?: string[]; replied_user?: boolean } | null;
  tts?: boolean;
  nonce?: string | number;
  sticker_ids?: string[];
  poll?: unknown;
}

export function asMessageBody(json: unknown): MessageBody {
  if (json === undefined) return {};
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const errors = new FormErrors();
    errors.add('_root', 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    throw errors.toError();
  }
  return json as MessageBody;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The limits Discord enforces on message bodies (documented in the Channel/Message resource),
 * reported in Discord's own 50035 error shape so the bot sees what production would answer.
 */
export function validateMessageBody(body: MessageBody, files: UploadedFile[], sizeLimit: number): void {
  const errors = new FormErrors();
  if (body.content != null) {
    if (typeof body.content !== 'string') errors.add('content', 'BASE_TYPE_STRING', 'Must be a string.');
    else if (body.content.length > 2000) errors.add('content', 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
  }
  if (body.embeds != null) {
    if (body.embeds.length > 10) errors.add('embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
    let total = 0;
    body.embeds.forEach((embed, i) => {
      const check = (path: string, value: unknown, max: number): void => {
        const text = str(value);
        total += text.length;
        if (text.length > max) errors.add(`embeds.${i}.${path}`, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
      };
      check('title', embed.title, 256);
      check('description', embed.description, 4096);
      const footer = embed.footer as { text?: unknown } | undefined;
      check('footer.text', footer?.text, 2048);
      const author = embed.author as { name?: unknown } | undefined;
      check('author.name', author?.name, 256);
      const fields = (embed.fields ?? []) as { name?: unknown; value?: unknown }[];
      if (fields.length > 25) errors.add(`embeds.${i}.fields`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      fields.forEach((field, j) => {
        check(`fields.${j}.name`, field.name, 256);
        check(`fields.${j}.value`, field.value, 1024);
        if (!str(field.name)) errors.add(`embeds.${i}.fields.${j}.name`, 'BASE_TYPE_REQUIRED', 'This field is required');
        if (!str(field.value)) errors.add(`embeds.${i}.fields.${j}.value`, 'BASE_TYPE_REQUIRED', 'This field is required');
      });
    });
    if (total > 6000) errors.add('embeds', 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
  }
  if (body.components != null) validateComponents(body.components, body.flags ?? 0, errors);
  if (files.length > 10) errors.add('files', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
  if (!errors.empty) throw errors.toError();
  for (const file of files) {
    if (file.data.length > sizeLimit) throw apiError(413, 40005);
  }
}

function validateComponents(components: Record<string, unknown>[], flags: number, errors: FormErrors): void {
  const componentsV2 = (flags & (1 << 15)) !== 0;
  if (!componentsV2 && components.length > 5) errors.add('components', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  const seen = new Set<string>();
  const visit = (component: Record<string, unknown>, path: string): void => {
    const type = component.type;
    if (typeof type !== 'number') {
      errors.add(`${path}.type`, 'BASE_TYPE_REQUIRED', 'This field is required');
      return;
    }
    const customId = component.custom_id;
    if (typeof customId === 'string') {
      if (customId.length > 100) errors.add(`${path}.custom_id`, 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
      if (seen.has(customId)) errors.add(`${path}.custom_id`, 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated');
      seen.add(customId);
    }
    if (type === ComponentType.Button) {
      const style = component.style;
      const label = str(component.label);
      if (label.length > 80) errors.add(`${path}.label`, 'BASE_TYPE_MAX_LENGTH', 'Must be 80 or fewer in length.');
      if (style === 5) {
        if (typeof component.url !== 'string') errors.add(`${path}.url`, 'BASE_TYPE_REQUIRED', 'This field is required');
      } else if (style !== 6 && typeof customId !== 'string') {
        errors.add(`${path}.custom_id`, 'BASE_TYPE_REQUIRED', 'This field is required');
      }
      if (!label && !component.emoji && style !== 6) errors.add(path, 'BUTTON_COMPONENT_MISSING_LABEL_OR_EMOJI', 'Button must have a label or emoji');
    }
    const children = component.components as Record<string, unknown>[] | undefined;
    if (type === ComponentType.ActionRow) {
      if (!children || children.length === 0) {
        errors.add(`${path}.components`, 'BASE_TYPE_MIN_LENGTH', 'Must be 1 or more in length.');
        return;
      }
      const selects = children.filter((c) => typeof c.type === 'number' && c.type >= 3 && c.type <= 8 && c.type !== 4).length;
      if (children.length > 5) errors.add(`${path}.components`, 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
      if (selects > 0 && children.length > 1) {
        errors.add(`${path}.components`, 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'The specified component exceeds the maximum width');
      }
    }
    children?.forEach((child, i) => visit(child, `${path}.components.${i}`));
  };
  components.forEach((component, i) => visit(component, `components.${i}`));
}

export function isEmptyMessage(message: {
  content: string;
  embeds: unknown[];
  attachments: unknown[];
  components?: unknown[];
  sticker_items?: unknown[];
  poll?: unknown;
}): boolean {
  return (
    message.content.trim() === '' &&
    message.embeds.length === 0 &&
    message.attachments.length === 0 &&
    (message.components?.length ?? 0) === 0 &&
    (message.sticker_items?.length ?? 0) === 0 &&
    !message.poll
  );
}

const NAME_RE = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/** Application-command limits from Discord's docs, so a bad registration fails here as it would live. */
export function validateCommands(commands: unknown): void {
  const errors = new FormErrors();
  if (!Array.isArray(commands)) {
    errors.add('_root', 'BASE_TYPE_ARRAY', 'Must be an array.');
    throw errors.toError();
  }
  if (commands.length > 100) errors.add('_root', 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
  const names = new Set<string>();
  commands.forEach((raw: Record<string, unknown>, i) => checkCommand(raw, String(i), errors, names));
  if (!errors.empty) throw errors.toError();
}

/** One command (create, edit): the checks a bulk overwrite applies to each of its elements. */
export function validateCommand(raw: Record<string, unknown>): void {
  const errors = new FormErrors();
  checkCommand(raw, '', errors);
  if (!errors.empty) throw errors.toError();
}

function checkCommand(raw: Record<string, unknown>, path: string, errors: FormErrors, names = new Set<string>()): void {
  const type = (raw.type as number | undefined) ?? ApplicationCommandType.ChatInput;
  const name = str(raw.name);
  const prefix = path === '' ? '' : `${path}.`;
  if (type === ApplicationCommandType.ChatInput) {
    if (!NAME_RE.test(name) || name !== name.toLowerCase()) {
      errors.add(`${prefix}name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    }
    const description = str(raw.description);
    if (description.length < 1 || description.length > 100) {
      errors.add(`${prefix}description`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    validateOptions((raw.options ?? []) as Record<string, unknown>[], `${prefix}options`, errors, 0);
  } else if (name.length < 1 || name.length > 32) {
    errors.add(`${prefix}name`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 32 in length.');
  }
  const key = `${type}:${name}`;
  if (names.has(key)) errors.add(`${prefix}name`, 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Application command names must be unique`);
  names.add(key);
}

function validateOptions(options: Record<string, unknown>[], path: string, errors: FormErrors, depth: number): void {
  if (options.length > 25) errors.add(path, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  let sawOptional = false;
  const names = new Set<string>();
  options.forEach((option, i) => {
    const at = `${path}.${i}`;
    const type = option.type as number;
    const name = str(option.name);
    if (!NAME_RE.test(name) || name !== name.toLowerCase()) errors.add(`${at}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
    if (names.has(name)) errors.add(`${at}.name`, 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', 'Option names must be unique');
    names.add(name);
    const description = str(option.description);
    if (description.length < 1 || description.length > 100) {
      errors.add(`${at}.description`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    }
    if (type === ApplicationCommandOptionType.Subcommand || type === ApplicationCommandOptionType.SubcommandGroup) {
      if (depth >= (type === ApplicationCommandOptionType.SubcommandGroup ? 1 : 2)) {
        errors.add(`${at}.type`, 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'Subcommands cannot be nested this deep');
      }
      validateOptions((option.options ?? []) as Record<string, unknown>[], `${at}.options`, errors, depth + 1);
      return;
    }
    if (option.required === true && sawOptional) {
      errors.add(`${at}.required`, 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be placed before non-required options');
    }
    if (option.required !== true) sawOptional = true;
    const choices = option.choices as unknown[] | undefined;
    if (choices && choices.length > 25) errors.add(`${at}.choices`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  });
}
