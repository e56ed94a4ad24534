#pragma once
// Shell completion scripts (`ttl-auditor completion bash|zsh|fish`), generated from the command
// line definition itself so they never drift from the flags the binary accepts.
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ttla {

struct CompletionOption {
  std::string flag;                  // "--report"
  std::string help;
  bool takes_value = false;
  std::string value_kind;            // "file", "dir", "choice" or "" (free text)
  std::vector<std::string> choices;  // for "choice"
};

struct CompletionCommand {
  std::string name;
  std::string help;
  std::vector<CompletionOption> options;
  bool file_arguments = false;  // positional arguments are files (merge PART.json...)
  std::vector<std::string> argument_choices;  // positional choices (completion SHELL)
};

// The subcommands of `app` with their long options. A value named FILE/DIR (type_name) completes
// paths; an IsMember check completes its members.
std::vector<CompletionCommand> completion_model(CLI::App& app);

// The script for `shell` ("bash", "zsh", "fish"); nullopt for another shell.
std::optional<std::string> completion_script(const std::string& shell, const std::string& program,
                                             const std::vector<CompletionCommand>& commands);

}  // namespace ttla
