#include "app/completion.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <sstream>

namespace ttla {
namespace {

// "{text,json}" (CLI::IsMember's description) -> {"text", "json"}.
std::vector<std::string> members_of(std::string desc) {
  std::vector<std::string> out;
  const size_t open = desc.find('{'), close = desc.rfind('}');
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  std::stringstream in(desc.substr(open + 1, close - open - 1));
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::vector<std::string> validator_choices(CLI::Option* opt) {
  try {
    return members_of(opt->get_validator()->get_description());
  } catch (const CLI::OptionNotFound&) {
    return {};
  }
}

std::string value_kind_of(const std::string& type_name, bool has_choices) {
  if (has_choices) return "choice";
  if (type_name == "FILE" || type_name == "PART.json") return "file";
  if (type_name == "DIR") return "dir";
  return "";
}

std::string shell_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// Single-quoted for POSIX shells and fish ('\'' closes, escapes, reopens).
std::string sq(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// zsh _arguments spec text: brackets and colons end fields, so escape them.
std::string zsh_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '[' || c == ']' || c == ':' || c == '\\') out += '\\';
    if (c == '\'') {
      out += "'\\''";
      continue;
    }
    out += c;
  }
  return out;
}

std::string fish_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string bash_script(const std::string& program, const std::vector<CompletionCommand>& cmds) {
  std::string fn = "_" + program;
  std::replace(fn.begin(), fn.end(), '-', '_');
  std::vector<std::string> names;
  for (const auto& c : cmds) names.push_back(c.name);
  names.push_back("--help");
  names.push_back("--version");
  std::string s = "# bash completion for " + program + "\n# source <(" + program +
                  " completion bash)   or save it in /etc/bash_completion.d/" + program + "\n";
  s += fn + "() {\n";
  s += "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n";
  s += "  COMPREPLY=()\n";
  s += "  if [[ $COMP_CWORD -eq 1 ]]; then\n";
  s += "    COMPREPLY=($(compgen -W " + sq(shell_words(names)) + " -- \"$cur\"))\n";
  s += "    return 0\n  fi\n";
  s += "  case \"${COMP_WORDS[1]}\" in\n";
  for (const auto& c : cmds) {
    s += "    " + c.name + ")\n      case \"$prev\" in\n";
    std::vector<std::string> flags;
    for (const auto& o : c.options) {
      flags.push_back(o.flag);
      if (!o.takes_value) continue;
      s += "        " + o.flag + ") ";
      if (o.value_kind == "file") {
        s += "COMPREPLY=($(compgen -f -- \"$cur\")); compopt -o filenames 2>/dev/null";
      } else if (o.value_kind == "dir") {
        s += "COMPREPLY=($(compgen -d -- \"$cur\")); compopt -o filenames 2>/dev/null";
      } else if (o.value_kind == "choice") {
        s += "COMPREPLY=($(compgen -W " + sq(shell_words(o.choices)) + " -- \"$cur\"))";
      } else {
        s += ":";  // a free value (TIME, N, URL...): nothing to offer
      }
      s += "; return 0 ;;\n";
    }
    flags.push_back("--help");
    s += "      esac\n";
    s += "      if [[ \"$cur\" == -* ]]; then\n";
    s += "        COMPREPLY=($(compgen -W " + sq(shell_words(flags)) + " -- \"$cur\"))\n";
    if (!c.argument_choices.empty()) {
      s += "      else\n        COMPREPLY=($(compgen -W " + sq(shell_words(c.argument_choices)) +
           " -- \"$cur\"))\n";
    } else if (c.file_arguments) {
      s += "      else\n        COMPREPLY=($(compgen -f -- \"$cur\")); compopt -o filenames 2>/dev/null\n";
    }
    s += "      fi\n      ;;\n";
  }
  s += "  esac\n  return 0\n}\n";
  s += "complete -F " + fn + " " + program + "\n";
  return s;
}

std::string zsh_script(const std::string& program, const std::vector<CompletionCommand>& cmds) {
  std::string fn = "_" + program;
  std::replace(fn.begin(), fn.end(), '-', '_');
  std::string s = "#compdef " + program + "\n# zsh completion for " + program + ": save as " + fn +
                  " in a directory on $fpath, or: source <(" + program + " completion zsh)\n";
  s += fn + "() {\n  local -a commands\n  commands=(\n";
  for (const auto& c : cmds) s += "    '" + c.name + ":" + zsh_escape(c.help) + "'\n";
  s += "  )\n  if (( CURRENT == 2 )); then\n    _describe 'command' commands\n    return\n  fi\n";
  s += "  case $words[2] in\n";
  for (const auto& c : cmds) {
    s += "    " + c.name + ")\n      _arguments \\\n";
    for (const auto& o : c.options) {
      s += "        '" + o.flag + "[" + zsh_escape(o.help) + "]";
      if (o.takes_value) {
        s += ":" + o.flag.substr(2) + ":";
        if (o.value_kind == "file") s += "_files";
        if (o.value_kind == "dir") s += "_files -/";
        if (o.value_kind == "choice") s += "(" + shell_words(o.choices) + ")";
        if (o.value_kind.empty()) s += " ";
      }
      s += "' \\\n";
    }
    if (!c.argument_choices.empty()) {
      s += "        '1:argument:(" + shell_words(c.argument_choices) + ")' \\\n";
    } else if (c.file_arguments) {
      s += "        '*:file:_files' \\\n";
    }
    s += "        '--help[Print help]'\n      ;;\n";
  }
  s += "  esac\n}\n";
  s += "if [[ \"${zsh_eval_context[-1]}\" == loadautofunc ]]; then\n  " + fn +
       " \"$@\"\nelse\n  compdef " + fn + " " + program + "\nfi\n";
  return s;
}

std::string fish_script(const std::string& program, const std::vector<CompletionCommand>& cmds) {
  std::vector<std::string> names;
  for (const auto& c : cmds) names.push_back(c.name);
  std::string s = "# fish completion for " + program + ": " + program +
                  " completion fish > ~/.config/fish/completions/" + program + ".fish\n";
  s += "complete -c " + program + " -f\n";
  for (const auto& c : cmds) {
    s += "complete -c " + program + " -n '__fish_use_subcommand' -a " + c.name + " -d " +
         fish_quote(c.help) + "\n";
  }
  for (const auto& c : cmds) {
    const std::string cond = "-n '__fish_seen_subcommand_from " + c.name + "'";
    for (const auto& o : c.options) {
      s += "complete -c " + program + " " + cond + " -l " + o.flag.substr(2);
      if (o.takes_value) {
        if (o.value_kind == "file" || o.value_kind == "dir") {
          s += " -r -F";
        } else if (o.value_kind == "choice") {
          s += " -x -a " + fish_quote(shell_words(o.choices));
        } else {
          s += " -x";
        }
      }
      s += " -d " + fish_quote(o.help) + "\n";
    }
    if (!c.argument_choices.empty()) {
      s += "complete -c " + program + " " + cond + " -a " + fish_quote(shell_words(c.argument_choices)) + "\n";
    } else if (c.file_arguments) {
      s += "complete -c " + program + " " + cond + " -F\n";
    }
  }
  return s;
}

}  // namespace

std::vector<CompletionCommand> completion_model(CLI::App& app) {
  std::vector<CompletionCommand> out;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    CompletionCommand c;
    c.name = sub->get_name();
    c.help = sub->get_description();
    for (CLI::Option* opt : sub->get_options()) {
      if (opt->get_positional() && opt->get_lnames().empty()) {
        const auto choices = validator_choices(opt);
        if (!choices.empty()) {
          c.argument_choices = choices;
        } else {
          c.file_arguments = true;
        }
        continue;
      }
      for (const auto& l : opt->get_lnames()) {
        if (l == "help") continue;
        CompletionOption o;
        o.flag = "--" + l;
        o.help = opt->get_description();
        o.takes_value = opt->get_expected_max() > 0;  // flags expect 0 values
        o.choices = validator_choices(opt);
        o.value_kind = value_kind_of(opt->get_type_name(), !o.choices.empty());
        c.options.push_back(std::move(o));
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<std::string> completion_script(const std::string& shell, const std::string& program,
                                             const std::vector<CompletionCommand>& commands) {
  if (shell == "bash") return bash_script(program, commands);
  if (shell == "zsh") return zsh_script(program, commands);
  if (shell == "fish") return fish_script(program, commands);
  return std::nullopt;
}

}  // namespace ttla
