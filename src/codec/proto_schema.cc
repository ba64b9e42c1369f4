/*
 * proto_schema.cc — the one C++ file of sluice: Debian's libprotobuf and
 * libprotoc turn a Protobuf schema into descriptors, and this file copies
 * them into the plain C model of proto_schema.h. Nothing C++ escapes: the
 * DescriptorPool and every std:: object live only inside
 * proto_schema_parse, and exceptions (std::bad_alloc) stop at its edge.
 *
 * Steps of a parse:
 *   1. Each source (the root, then every import it needs) becomes a
 *      FileDescriptorProto: base64 text is decoded and parsed as a
 *      serialized descriptor; anything else goes through
 *      compiler::Parser, which also records where each element was
 *      written so that later errors can name a line and column. The
 *      parser recurses on nesting, so braces are counted first and text
 *      nested deeper than MAX_BRACE_DEPTH is refused before it sees it.
 *   2. Imports are resolved depth first: a caller-supplied dependency of
 *      that name, else a well-known type from libprotobuf's generated pool
 *      (google/protobuf/…), else an error naming the import. A file that
 *      imports one of its importers is a cycle and named as one.
 *   3. Every file is built into a private DescriptorPool, which checks
 *      names, numbers, types and options.
 *   4. The root and everything it reaches are copied into an arena: first
 *      every file, message and enum is allocated (so pointers exist), then
 *      fields are filled with resolved message/enum pointers.
 *
 * Threads: any; every call builds its own pool. libprotobuf's log output is
 * silenced while parsing (LogSilencer) so that nothing reaches stderr
 * outside sluice's logger: errors come back in sluice_error.
 */
#include "codec/proto_schema.h"

extern "C" {
#include "common/arena.h"
}

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <vector>

namespace gp = google::protobuf;

namespace
{

constexpr int MAX_BRACE_DEPTH = 64;
constexpr size_t ARENA_CAP = 256u << 20;

struct proto_schema_impl {
    arena mem;
    const proto_file *root;
    const char *canonical;
    const char *serialized_b64;
    const proto_message **by_name; /* every message, sorted by full_name */
    size_t n_messages;
};

/* ---- base64 (RFC 4648, standard alphabet, padded) -------------------- */

int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decode if the text (without surrounding whitespace) is nothing but
 * padded base64; false for anything else, which is then read as .proto
 * text. */
bool b64_decode(const char *text, size_t len, std::string *out)
{
    while (len && std::strchr(" \t\r\n", text[len - 1]))
        len--;
    while (len && std::strchr(" \t\r\n", *text)) {
        text++;
        len--;
    }
    if (len == 0 || len % 4 != 0) return false;
    out->clear();
    out->reserve(len / 4 * 3);
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)text[i + k];
            v[k] = c == '=' ? -2 : b64_value(c);
            if (v[k] == -1) return false;
        }
        bool last = i + 4 == len;
        if (v[0] < 0 || v[1] < 0) return false;
        if (v[2] == -2 && (v[3] != -2 || !last)) return false;
        if (v[3] == -2 && !last) return false;
        out->push_back((char)(v[0] << 2 | v[1] >> 4));
        if (v[2] >= 0) out->push_back((char)((v[1] & 15) << 4 | v[2] >> 2));
        if (v[3] >= 0) {
            if (v[2] < 0) return false;
            out->push_back((char)((v[2] & 3) << 6 | v[3]));
        }
    }
    return true;
}

std::string b64_encode(const std::string &in)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (size_t i = 0; i < in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < in.size()) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < in.size()) v |= (unsigned char)in[i + 2];
        out.push_back(alphabet[v >> 18 & 63]);
        out.push_back(alphabet[v >> 12 & 63]);
        out.push_back(i + 1 < in.size() ? alphabet[v >> 6 & 63] : '=');
        out.push_back(i + 2 < in.size() ? alphabet[v & 63] : '=');
    }
    return out;
}

/* ---- nesting pre-check ------------------------------------------------ */

/* The deepest brace nesting of .proto text, skipping strings and comments
 * (a brace inside either does not nest). Stops counting past the limit. */
int brace_depth(const char *s, size_t n, int *line, int *col)
{
    int depth = 0, deepest = 0, ln = 1, cl = 1;
    for (size_t i = 0; i < n; i++, cl++) {
        char c = s[i];
        if (c == '\n') {
            ln++;
            cl = 0;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i + 1 < n && s[i + 1] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++)
                if (s[i] == '\n') ln++, cl = 0;
            i++;
        } else if (c == '"' || c == '\'') {
            for (i++; i < n && s[i] != c && s[i] != '\n'; i++)
                if (s[i] == '\\') i++;
        } else if (c == '{' || c == '<') {
            /* '<' opens text-format aggregates (and map<…>, harmlessly) */
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > MAX_BRACE_DEPTH) {
                    *line = ln;
                    *col = cl;
                    return deepest;
                }
            }
        } else if ((c == '}' || c == '>') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

/* ---- descriptor normalisation --------------------------------------------- */

/* protoc writes json_name into the descriptors it emits (descriptor sets,
 * plugins); a .proto parse and python's embedded descriptors do not. A
 * json_name equal to the one derived from the field name says nothing, so
 * it is dropped, and both forms of one schema render and dedupe alike. */
std::string default_json_name(const std::string &name)
{
    std::string out;
    bool upper = false;
    for (char c : name) {
        if (c == '_') {
            upper = true;
        } else if (upper) {
            out.push_back(c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
            upper = false;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void drop_default_json_names(gp::DescriptorProto *m, int depth)
{
    if (depth > 200) return; /* ParseFromString already bounds nesting at 100 */
    for (gp::FieldDescriptorProto &f : *m->mutable_field())
        if (f.has_json_name() && f.json_name() == default_json_name(f.name())) f.clear_json_name();
    for (gp::DescriptorProto &n : *m->mutable_nested_type())
        drop_default_json_names(&n, depth + 1);
}

/* ---- errors ------------------------------------------------------------- */

/* Names and messages as they go into an error: a descriptor's name is
 * whatever bytes the base64 held, and a NUL in it would end the message
 * there (the fuzzer found a name starting with one: an empty message).
 * Control bytes and DEL are written as \xNN. */
static std::string Printable(const std::string &in)
{
    std::string out;
    out.reserve(in.size());
    for (unsigned char c : in) {
        if (c < 0x20 || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += (char)c;
        }
    }
    return out;
}

/* The first error the tokenizer or parser reports, with its place. */
class TextErrors : public gp::io::ErrorCollector
{
  public:
    explicit TextErrors(const std::string &file) : file_(file) {}
    void AddError(int line, gp::io::ColumnNumber column, const std::string &message) override
    {
        if (!first_.empty()) return;
        char where[64];
        std::snprintf(where, sizeof where, ":%d:%d: ", line + 1, column + 1);
        first_ = Printable(file_) + where + Printable(message);
    }
    const std::string &first() const
    {
        return first_;
    }

  private:
    std::string file_;
    std::string first_;
};

/* The first error the DescriptorPool reports, placed through the parser's
 * location table when the file was text. */
class PoolErrors : public gp::DescriptorPool::ErrorCollector
{
  public:
    explicit PoolErrors(const gp::compiler::SourceLocationTable *table) : table_(table) {}
    void AddError(const std::string &filename, const std::string &element_name,
                  const gp::Message *descriptor, ErrorLocation location,
                  const std::string &message) override
    {
        if (!first_.empty()) return;
        int line = -1, column = 0;
        if (table_ && descriptor) table_->Find(descriptor, location, &line, &column);
        char where[64];
        if (line >= 0) {
            std::snprintf(where, sizeof where, ":%d:%d: ", line + 1, column + 1);
            first_ = Printable(filename) + where + Printable(message);
        } else {
            first_ = Printable(filename) + ": " +
                     (element_name.empty() ? "" : Printable(element_name) + ": ") +
                     Printable(message);
        }
    }
    const std::string &first() const
    {
        return first_;
    }

  private:
    const gp::compiler::SourceLocationTable *table_;
    std::string first_;
};

/* ---- step 1–3: sources into a pool ------------------------------------ */

struct Origin {
    const char *subject = nullptr;
    int32_t version = 0;
    bool builtin = false;
};

class PoolBuilder
{
  public:
    PoolBuilder(const proto_source *deps, size_t n, sluice_error *err) : err_(err)
    {
        for (size_t i = 0; i < n; i++)
            if (deps[i].name) deps_.emplace(deps[i].name, &deps[i]);
    }

    /* Build one source (and, first, its imports) into the pool. */
    const gp::FileDescriptor *Build(const std::string &name, const char *text, size_t len,
                                    bool keep_descriptor_name, Origin origin)
    {
        if (++files_ > PROTO_SCHEMA_MAX_FILES) {
            Fail(SLUICE_ERANGE, "more than %d files (imports) in one schema",
                 PROTO_SCHEMA_MAX_FILES);
            return nullptr;
        }
        gp::FileDescriptorProto fdp;
        gp::compiler::SourceLocationTable table;
        bool from_text = false;
        if (!ToProto(name, text, len, keep_descriptor_name, &fdp, &table, &from_text))
            return nullptr;
        return BuildProto(fdp, from_text ? &table : nullptr, origin);
    }

    const std::map<std::string, Origin> &origins() const
    {
        return origins_;
    }
    gp::DescriptorPool &pool()
    {
        return pool_;
    }

  private:
    int Fail(int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
    {
        char msg[SLUICE_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return sluice_error_set(err_, code, "%s", msg);
    }

    bool ToProto(const std::string &name, const char *text, size_t len, bool keep_descriptor_name,
                 gp::FileDescriptorProto *fdp, gp::compiler::SourceLocationTable *table,
                 bool *from_text)
    {
        std::string bytes;
        if (b64_decode(text, len, &bytes) && fdp->ParseFromString(bytes)) {
            if (!keep_descriptor_name || fdp->name().empty()) fdp->set_name(name);
            for (gp::DescriptorProto &m : *fdp->mutable_message_type())
                drop_default_json_names(&m, 0);
            return true;
        }
        fdp->Clear();
        *from_text = true;
        return ParseText(name, text, len, fdp, table);
    }

    /* .proto text into fdp, errors placed by line and column. */
    bool ParseText(const std::string &name, const char *text, size_t len,
                   gp::FileDescriptorProto *fdp, gp::compiler::SourceLocationTable *table)
    {
        int line = 0, col = 0;
        if (brace_depth(text, len, &line, &col) > MAX_BRACE_DEPTH) {
            Fail(SLUICE_EINVAL, "%s:%d:%d: nested deeper than %d levels", name.c_str(), line, col,
                 MAX_BRACE_DEPTH);
            return false;
        }
        if (len > (size_t)INT32_MAX) {
            Fail(SLUICE_ERANGE, "%s: schema text too large", name.c_str());
            return false;
        }
        gp::io::ArrayInputStream input(text, (int)len);
        TextErrors errors(name);
        gp::io::Tokenizer tokenizer(&input, &errors);
        gp::compiler::Parser parser;
        parser.RecordErrorsTo(&errors);
        parser.RecordSourceLocationsTo(table);
        bool ok = parser.Parse(&tokenizer, fdp);
        if (!ok || !errors.first().empty()) {
            Fail(SLUICE_EINVAL, "%s",
                 errors.first().empty() ? (name + ": does not parse").c_str()
                                        : errors.first().c_str());
            return false;
        }
        fdp->set_name(name);
        return true;
    }

    const gp::FileDescriptor *BuildProto(const gp::FileDescriptorProto &fdp,
                                         const gp::compiler::SourceLocationTable *table,
                                         Origin origin)
    {
        if (const gp::FileDescriptor *done = pool_.FindFileByName(fdp.name())) return done;
        building_.push_back(fdp.name());
        for (const std::string &dep : fdp.dependency()) {
            if (!Import(fdp, table, dep)) return nullptr;
        }
        building_.pop_back();
        PoolErrors errors(table);
        const gp::FileDescriptor *fd = pool_.BuildFileCollectingErrors(fdp, &errors);
        if (!fd) {
            Fail(SLUICE_EINVAL, "%s",
                 errors.first().empty() ? (Printable(fdp.name()) + ": invalid").c_str()
                                        : errors.first().c_str());
            return nullptr;
        }
        if (!table && !origin.builtin && !Expressible(fd)) return nullptr;
        origins_[fd->name()] = origin;
        return fd;
    }

    /* A descriptor can hold what .proto text cannot say (a field named
     * "3x", say: the pool checks characters, not where digits go). Such a
     * schema could be stored but never read back from its text, so it is
     * refused here, with the place in its rendering. */
    bool Expressible(const gp::FileDescriptor *fd)
    {
        std::string text = fd->DebugString();
        gp::FileDescriptorProto scratch;
        gp::compiler::SourceLocationTable table;
        if (ParseText(fd->name(), text.data(), text.size(), &scratch, &table)) return true;
        sluice_error_prefix(err_, "descriptor %s cannot be written as .proto text: ",
                            Printable(fd->name()).c_str());
        return false;
    }

    bool Import(const gp::FileDescriptorProto &importer,
                const gp::compiler::SourceLocationTable *table, const std::string &dep)
    {
        if (pool_.FindFileByName(dep)) return true;
        if (std::find(building_.begin(), building_.end(), dep) != building_.end()) {
            std::string chain;
            for (auto it = std::find(building_.begin(), building_.end(), dep);
                 it != building_.end(); ++it)
                chain += *it + " -> ";
            Fail(SLUICE_EINVAL, "import cycle: %s%s", Printable(chain).c_str(),
                 Printable(dep).c_str());
            return false;
        }
        auto given = deps_.find(dep);
        if (given != deps_.end()) {
            const proto_source *src = given->second;
            Origin o;
            o.subject = src->ref_subject;
            o.version = src->ref_version;
            if (!Build(dep, src->text ? src->text : "", src->text ? src->len : 0, false, o)) {
                sluice_error_prefix(err_, "import \"%s\" of %s: ", Printable(dep).c_str(),
                                    Printable(importer.name()).c_str());
                return false;
            }
            return true;
        }
        const gp::FileDescriptor *known =
            dep.rfind("google/protobuf/", 0) == 0
                ? gp::DescriptorPool::generated_pool()->FindFileByName(dep)
                : nullptr;
        if (known) {
            gp::FileDescriptorProto copy;
            known->CopyTo(&copy);
            Origin o;
            o.builtin = true;
            if (++files_ > PROTO_SCHEMA_MAX_FILES) {
                Fail(SLUICE_ERANGE, "more than %d files (imports) in one schema",
                     PROTO_SCHEMA_MAX_FILES);
                return false;
            }
            return BuildProto(copy, nullptr, o) != nullptr;
        }
        int line = -1, col = 0;
        if (table) table->FindImport(&importer, dep, &line, &col);
        if (line >= 0)
            Fail(SLUICE_EINVAL, "%s:%d:%d: import \"%s\" not found: no reference has that name",
                 Printable(importer.name()).c_str(), line + 1, col + 1, Printable(dep).c_str());
        else
            Fail(SLUICE_EINVAL, "%s: import \"%s\" not found: no reference has that name",
                 Printable(importer.name()).c_str(), Printable(dep).c_str());
        return false;
    }

    sluice_error *err_;
    gp::DescriptorPool pool_;
    std::map<std::string, const proto_source *> deps_;
    std::map<std::string, Origin> origins_;
    std::vector<std::string> building_;
    int files_ = 0;
};

/* ---- step 4: descriptors into the C model ------------------------------ */

class ModelBuilder
{
  public:
    ModelBuilder(proto_schema_impl *s, const std::map<std::string, Origin> &origins)
        : s_(s), origins_(origins)
    {
    }

    /* false: out of memory or over a bound (err set). */
    bool Convert(const gp::FileDescriptor *root, sluice_error *err)
    {
        err_ = err;
        proto_file *r = AllocFile(root);
        if (!r) return false;
        for (auto &fm : messages_)
            if (!FillMessage(fm.first, fm.second)) return false;
        s_->root = r;
        return Index();
    }

  private:
    template <typename T> T *Alloc(size_t n)
    {
        void *p = arena_calloc(&s_->mem, n ? n : 1, sizeof(T), alignof(T));
        if (!p) Oom();
        return static_cast<T *>(p);
    }

    const char *Str(const std::string &s)
    {
        char *p = arena_strndup(&s_->mem, s.data(), s.size());
        if (!p) Oom();
        return p;
    }

    void Oom()
    {
        if (!failed_)
            sluice_error_set(err_, SLUICE_ENOMEM, "protobuf schema: out of memory (bound %zu MiB)",
                             ARENA_CAP >> 20);
        failed_ = true;
    }

    proto_file *AllocFile(const gp::FileDescriptor *fd)
    {
        auto seen = files_.find(fd);
        if (seen != files_.end()) return seen->second;
        proto_file *f = Alloc<proto_file>(1);
        if (!f) return nullptr;
        files_[fd] = f;
        f->name = Str(fd->name());
        f->package = Str(fd->package());
        f->syntax = fd->syntax() == gp::FileDescriptor::SYNTAX_PROTO3 ? "proto3" : "proto2";
        auto o = origins_.find(fd->name());
        if (o != origins_.end()) {
            f->ref_subject = o->second.subject ? Str(o->second.subject) : nullptr;
            f->ref_version = o->second.version;
            f->builtin = o->second.builtin;
        }
        const proto_file **deps = Alloc<const proto_file *>(fd->dependency_count());
        if (!deps) return nullptr;
        for (int i = 0; i < fd->dependency_count(); i++)
            if (!(deps[i] = AllocFile(fd->dependency(i)))) return nullptr;
        f->deps = deps;
        f->n_deps = fd->dependency_count();

        proto_message *msgs = Alloc<proto_message>(fd->message_type_count());
        proto_enum *enums = Alloc<proto_enum>(fd->enum_type_count());
        if (!msgs || !enums) return nullptr;
        for (int i = 0; i < fd->message_type_count(); i++)
            if (!AllocMessage(fd->message_type(i), f, nullptr, i, &msgs[i])) return nullptr;
        for (int i = 0; i < fd->enum_type_count(); i++)
            if (!FillEnum(fd->enum_type(i), f, nullptr, &enums[i])) return nullptr;
        f->messages = msgs;
        f->n_messages = fd->message_type_count();
        f->enums = enums;
        f->n_enums = fd->enum_type_count();
        return f;
    }

    bool AllocMessage(const gp::Descriptor *d, const proto_file *f, const proto_message *parent,
                      int index, proto_message *m)
    {
        if (messages_.size() >= PROTO_SCHEMA_MAX_MESSAGES) {
            if (!failed_)
                sluice_error_set(err_, SLUICE_ERANGE, "protobuf schema: more than %d messages",
                                 PROTO_SCHEMA_MAX_MESSAGES);
            failed_ = true;
            return false;
        }
        messages_.emplace_back(d, m);
        by_desc_[d] = m;
        m->name = Str(d->name());
        m->full_name = Str(d->full_name());
        m->file = f;
        m->parent = parent;
        m->index = (size_t)index;
        m->map_entry = d->options().map_entry();
        proto_message *nested = Alloc<proto_message>(d->nested_type_count());
        proto_enum *enums = Alloc<proto_enum>(d->enum_type_count());
        if (!nested || !enums || !m->name || !m->full_name) return false;
        for (int i = 0; i < d->nested_type_count(); i++)
            if (!AllocMessage(d->nested_type(i), f, m, i, &nested[i])) return false;
        for (int i = 0; i < d->enum_type_count(); i++)
            if (!FillEnum(d->enum_type(i), f, m, &enums[i])) return false;
        m->nested = nested;
        m->n_nested = d->nested_type_count();
        m->enums = enums;
        m->n_enums = d->enum_type_count();
        return true;
    }

    bool FillEnum(const gp::EnumDescriptor *d, const proto_file *f, const proto_message *parent,
                  proto_enum *e)
    {
        by_enum_[d] = e;
        e->name = Str(d->name());
        e->full_name = Str(d->full_name());
        e->file = f;
        e->parent = parent;
        e->closed = d->file()->syntax() != gp::FileDescriptor::SYNTAX_PROTO3;
        proto_enum_value *v = Alloc<proto_enum_value>(d->value_count());
        if (!v || !e->name || !e->full_name) return false;
        for (int i = 0; i < d->value_count(); i++) {
            v[i].name = Str(d->value(i)->name());
            v[i].number = d->value(i)->number();
            if (!v[i].name) return false;
        }
        e->values = v;
        e->n_values = d->value_count();
        return true;
    }

    bool FillField(const gp::FieldDescriptor *fd, size_t index, proto_field *f)
    {
        f->name = Str(fd->name());
        f->json_name = Str(fd->json_name());
        f->number = fd->number();
        f->type = (proto_type)fd->type();
        f->label = (proto_label)fd->label();
        bool proto3 = fd->file()->syntax() == gp::FileDescriptor::SYNTAX_PROTO3;
        f->proto3_optional = fd->has_optional_keyword() && proto3;
        f->label_declared = !fd->is_map() && (!proto3 || fd->is_repeated() || f->proto3_optional);
        f->packed = fd->is_packed();
        f->has_presence = fd->has_presence();
        f->index = index;
        f->oneof_index = -1;
        if (fd->has_default_value() && fd->cpp_type() != gp::FieldDescriptor::CPPTYPE_MESSAGE) {
            gp::FieldDescriptorProto p;
            fd->CopyTo(&p);
            f->default_value = Str(p.default_value());
        }
        if (fd->message_type()) {
            auto it = by_desc_.find(fd->message_type());
            if (it == by_desc_.end()) return Internal(fd->full_name());
            f->message = it->second;
        }
        if (fd->enum_type()) {
            auto it = by_enum_.find(fd->enum_type());
            if (it == by_enum_.end()) return Internal(fd->full_name());
            f->enum_type = it->second;
        }
        return f->name && f->json_name;
    }

    bool Internal(const std::string &what)
    {
        sluice_error_set(err_, SLUICE_EINTERNAL,
                         "protobuf schema: the type of %s is outside the schema's files",
                         what.c_str());
        failed_ = true;
        return false;
    }

    bool FillMessage(const gp::Descriptor *d, proto_message *m)
    {
        int n = d->field_count();
        proto_field *fields = Alloc<proto_field>(n);
        const proto_field **by_number = Alloc<const proto_field *>(n);
        if (!fields || !by_number) return false;
        for (int i = 0; i < n; i++) {
            if (!FillField(d->field(i), (size_t)i, &fields[i])) return false;
            by_number[i] = &fields[i];
        }
        std::sort(by_number, by_number + n,
                  [](const proto_field *a, const proto_field *b) { return a->number < b->number; });
        /* real oneofs only, renumbered densely */
        std::vector<const gp::OneofDescriptor *> real;
        for (int i = 0; i < d->oneof_decl_count(); i++)
            if (!d->oneof_decl(i)->is_synthetic()) real.push_back(d->oneof_decl(i));
        proto_oneof *oneofs = Alloc<proto_oneof>(real.size());
        if (!oneofs) return false;
        for (size_t k = 0; k < real.size(); k++) {
            const gp::OneofDescriptor *od = real[k];
            const proto_field **members = Alloc<const proto_field *>(od->field_count());
            if (!members) return false;
            for (int j = 0; j < od->field_count(); j++) {
                proto_field *member = &fields[od->field(j)->index()];
                member->oneof_index = (int)k;
                members[j] = member;
            }
            oneofs[k].name = Str(od->name());
            oneofs[k].fields = members;
            oneofs[k].n_fields = od->field_count();
            if (!oneofs[k].name) return false;
        }
        m->fields = fields;
        m->n_fields = n;
        m->by_number = by_number;
        m->oneofs = oneofs;
        m->n_oneofs = real.size();
        return true;
    }

    bool Index()
    {
        const proto_message **all = Alloc<const proto_message *>(messages_.size());
        if (!all) return false;
        for (size_t i = 0; i < messages_.size(); i++)
            all[i] = messages_[i].second;
        std::sort(all, all + messages_.size(), [](const proto_message *a, const proto_message *b) {
            return std::strcmp(a->full_name, b->full_name) < 0;
        });
        s_->by_name = all;
        s_->n_messages = messages_.size();
        return true;
    }

    proto_schema_impl *s_;
    const std::map<std::string, Origin> &origins_;
    sluice_error *err_ = nullptr;
    bool failed_ = false;
    std::map<const gp::FileDescriptor *, proto_file *> files_;
    std::map<const gp::Descriptor *, proto_message *> by_desc_;
    std::map<const gp::EnumDescriptor *, proto_enum *> by_enum_;
    std::vector<std::pair<const gp::Descriptor *, proto_message *>> messages_;
};

int parse(const char *text, size_t len, const char *root_name, const proto_source *deps,
          size_t n_deps, proto_schema_impl **out, sluice_error *err)
{
    gp::LogSilencer quiet;
    PoolBuilder pb(deps, n_deps, err);
    Origin root_origin;
    const gp::FileDescriptor *root =
        pb.Build(root_name ? root_name : "schema.proto", text ? text : "", text ? len : 0,
                 root_name == nullptr, root_origin);
    if (!root) return err ? err->code : SLUICE_EINVAL;

    auto *s = static_cast<proto_schema_impl *>(std::calloc(1, sizeof(proto_schema_impl)));
    if (!s) return sluice_error_set(err, SLUICE_ENOMEM, "protobuf schema: out of memory");
    arena_init(&s->mem, 16384, ARENA_CAP);
    ModelBuilder mb(s, pb.origins());
    std::string canonical = root->DebugString();
    gp::FileDescriptorProto copy;
    root->CopyTo(&copy);
    std::string bytes;
    copy.SerializeToString(&bytes);
    std::string b64 = b64_encode(bytes);
    s->canonical = arena_strndup(&s->mem, canonical.data(), canonical.size());
    s->serialized_b64 = arena_strndup(&s->mem, b64.data(), b64.size());
    if (!s->canonical || !s->serialized_b64) {
        sluice_error_set(err, SLUICE_ENOMEM, "protobuf schema: out of memory");
        arena_free(&s->mem);
        std::free(s);
        return SLUICE_ENOMEM;
    }
    if (!mb.Convert(root, err)) {
        arena_free(&s->mem);
        std::free(s);
        return err ? err->code : SLUICE_ENOMEM;
    }
    *out = s;
    return 0;
}

} // namespace

struct proto_schema {
    proto_schema_impl impl;
};

extern "C" int proto_schema_parse(const char *text, size_t len, const char *root_name,
                                  const proto_source *deps, size_t n_deps, proto_schema **out,
                                  sluice_error *err)
{
    *out = nullptr;
    try {
        proto_schema_impl *s = nullptr;
        int rc = parse(text, len, root_name, deps, n_deps, &s, err);
        if (rc == 0) *out = reinterpret_cast<proto_schema *>(s);
        return rc;
    } catch (const std::bad_alloc &) {
        return sluice_error_set(err, SLUICE_ENOMEM, "protobuf schema: out of memory");
    } catch (...) {
        return sluice_error_set(err, SLUICE_EINTERNAL, "protobuf schema: libprotobuf failed");
    }
}

extern "C" void proto_schema_free(proto_schema *s)
{
    if (!s) return;
    arena_free(&s->impl.mem);
    std::free(s);
}

extern "C" const proto_file *proto_schema_root(const proto_schema *s)
{
    return s->impl.root;
}

extern "C" const char *proto_schema_canonical(const proto_schema *s)
{
    return s->impl.canonical;
}

extern "C" const char *proto_schema_serialized_base64(const proto_schema *s)
{
    return s->impl.serialized_b64;
}

extern "C" const proto_message *proto_schema_find_message(const proto_schema *s,
                                                          const char *full_name)
{
    const proto_message *const *begin = s->impl.by_name;
    const proto_message *const *end = begin + s->impl.n_messages;
    auto it = std::lower_bound(begin, end, full_name, [](const proto_message *m, const char *n) {
        return std::strcmp(m->full_name, n) < 0;
    });
    return it != end && std::strcmp((*it)->full_name, full_name) == 0 ? *it : nullptr;
}

extern "C" const proto_message *
proto_schema_message_at(const proto_schema *s, const int32_t *indexes, size_t n, sluice_error *err)
{
    const proto_file *f = s->impl.root;
    if (n == 0) {
        if (f->n_messages == 0) {
            sluice_error_set(err, SLUICE_ENOTFOUND, "message index [0]: %s has no messages",
                             f->name);
            return nullptr;
        }
        return &f->messages[0];
    }
    const proto_message *m = nullptr;
    for (size_t i = 0; i < n; i++) {
        const proto_message *list = m ? m->nested : f->messages;
        size_t count = m ? m->n_nested : f->n_messages;
        if (indexes[i] < 0 || (size_t)indexes[i] >= count) {
            sluice_error_set(err, SLUICE_ENOTFOUND,
                             "message index %d at position %zu: %s has %zu messages there",
                             (int)indexes[i], i, m ? m->full_name : f->name, count);
            return nullptr;
        }
        m = &list[indexes[i]];
    }
    return m;
}

extern "C" proto_wire proto_type_wire(proto_type t)
{
    switch (t) {
    case PROTO_DOUBLE:
    case PROTO_FIXED64:
    case PROTO_SFIXED64:
        return PROTO_WIRE_I64;
    case PROTO_FLOAT:
    case PROTO_FIXED32:
    case PROTO_SFIXED32:
        return PROTO_WIRE_I32;
    case PROTO_STRING:
    case PROTO_BYTES:
    case PROTO_MESSAGE:
        return PROTO_WIRE_LEN;
    case PROTO_GROUP:
        return PROTO_WIRE_SGROUP;
    default:
        return PROTO_WIRE_VARINT;
    }
}

extern "C" const char *proto_type_name(proto_type t)
{
    static const char *const names[] = {"?",        "double",   "float",   "int64",  "uint64",
                                        "int32",    "fixed64",  "fixed32", "bool",   "string",
                                        "group",    "message",  "bytes",   "uint32", "enum",
                                        "sfixed32", "sfixed64", "sint32",  "sint64"};
    return (int)t >= 1 && (int)t <= 18 ? names[t] : names[0];
}
