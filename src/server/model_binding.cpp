#include "server/model_binding.h"

namespace pensieve::server {

Result<std::shared_ptr<const ServerModel>> bind_backend(std::shared_ptr<engine::InferenceBackend> backend,
                                                        std::string id, std::vector<std::string> aliases,
                                                        std::string* warning) {
  if (!backend || !backend->loaded()) return make_error(ErrorKind::internal, "no model is loaded");
  auto m = std::make_shared<ServerModel>();
  m->id = std::move(id);
  m->aliases = std::move(aliases);
  m->info = backend->info();
  m->variant = backend->variant();
  m->device = backend->device();
  if (m->id.empty()) m->id = m->info.name.empty() ? "local-model" : m->info.name;

  auto tmpl = text::ChatTemplate::parse(m->info.chat_template);
  if (!tmpl.ok()) {
    if (warning) *warning = "the model's chat template does not parse (" + tmpl.error().message + "); using ChatML";
    tmpl = text::ChatTemplate::parse(text::chatml_template());
    if (!tmpl.ok()) return tmpl.error();
  }
  m->chat_template = std::move(tmpl.value());

  const text::Tokenizer& tok = backend->tokenizer();
  if (tok.bos() >= 0) m->bos_token = std::string(tok.token_text(tok.bos()));
  if (tok.eos() >= 0) m->eos_token = std::string(tok.token_text(tok.eos()));
  const token_id bos = tok.bos();
  m->tokenize = [backend, bos](std::string_view text) {
    std::vector<token_id> ids = backend->tokenize(text);
    // Templates that write bos_token themselves plus the tokenizer's own BOS rule give two.
    if (bos >= 0 && ids.size() >= 2 && ids[0] == bos && ids[1] == bos) ids.erase(ids.begin());
    return ids;
  };
  m->kv_usage = [backend] { return backend->kv_usage(); };
  m->engine_stats = [backend] { return backend->stats(); };
  m->n_parallel = backend->n_parallel();
  m->embed = [backend](const std::vector<std::vector<token_id>>& inputs) { return backend->embed(inputs); };
  m->generate = [backend](const std::vector<token_id>& prompt, const engine::GenerateOptions& options,
                          const engine::OnToken& on_token) { return backend->stream(prompt, options, on_token); };
  return std::shared_ptr<const ServerModel>(std::move(m));
}

}  // namespace pensieve::server
