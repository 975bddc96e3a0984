// actjit's two error channels.
//
//  * actjit::Error and its subclasses: a user's mistake (bad formula, bad value,
//    absurd size). The message is short, lowercase, and says what was expected
//    and what was found. Formula errors carry the byte offset into the text.
//  * ACTJIT_ASSERT: an internal invariant. Failing one is a bug in actjit; it
//    throws InternalError with the condition, file and line.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace actjit {

/// Base class of every error actjit reports to a user.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// An error in formula text: what went wrong, where (byte offset and length in
/// the text), and an optional note ("did you mean 'tanh'?").
class FormulaError : public Error {
public:
    FormulaError(std::string message, std::size_t offset, std::size_t length = 1, std::string note = {})
        : Error(message), message_(std::move(message)), offset_(offset), length_(length), note_(std::move(note)) {}

    const std::string& message() const noexcept { return message_; }
    std::size_t offset() const noexcept { return offset_; }
    std::size_t length() const noexcept { return length_; }
    const std::string& note() const noexcept { return note_; }

    /// The full diagnostic, as the CLI prints it:
    ///   error: unknown function 'tanhh'
    ///     tanhh(x) * sigmoid(1.702 * x)
    ///     ^~~~~
    ///   note: did you mean 'tanh'?
    /// Long texts are shown as a window around the offset; control bytes and
    /// non-ASCII bytes are shown escaped so the caret stays aligned.
    std::string render(const std::string& text) const;

private:
    std::string message_;
    std::size_t offset_;
    std::size_t length_;
    std::string note_;
};

/// A value, size or option that is out of range (non-finite point, absurd size,
/// missing parameter value...).
class ValueError : public Error {
public:
    using Error::Error;
};

/// An expression too deep or too large to handle safely.
class LimitError : public Error {
public:
    using Error::Error;
};

/// A bug in actjit.
class InternalError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

[[noreturn]] void internal_error(const char* condition, const char* file, int line, const std::string& detail = {});

}  // namespace actjit

#define ACTJIT_ASSERT(cond, ...)                                                        \
    do {                                                                                \
        if (!(cond)) ::actjit::internal_error(#cond, __FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__); \
    } while (0)
