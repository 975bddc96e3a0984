// Datasets, splits, batches and CSV.
#include <actjit/nn/data.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace actjit::nn {

template <class T>
void Dataset<T>::validate() const {
    if (x.rows() != y.rows())
        throw ValueError(fmt::format("dataset: expected as many targets as inputs, found {} inputs and {} targets", x.rows(), y.rows()));
    for (const Matrix<T>* m : {&x, &y})
        if (!m->allFinite())
            for (Index r = 0; r < m->rows(); ++r)
                for (Index c = 0; c < m->cols(); ++c)
                    if (!std::isfinite((*m)(r, c)))
                        throw ValueError(fmt::format("dataset: expected finite values, found {} in {} row {}, column {}", (*m)(r, c),
                                                     m == &x ? "inputs" : "targets", r, c));
}

template <class T>
Dataset<T> Dataset<T>::subset(const std::vector<Index>& idx) const {
    Dataset out;
    out.x.resize(static_cast<Index>(idx.size()), x.cols());
    out.y.resize(static_cast<Index>(idx.size()), y.cols());
    for (std::size_t i = 0; i < idx.size(); ++i) {
        const Index r = idx[i];
        if (r < 0 || r >= size()) throw ValueError(fmt::format("dataset: row {} out of range 0..{}", r, size() - 1));
        out.x.row(static_cast<Index>(i)) = x.row(r);
        out.y.row(static_cast<Index>(i)) = y.row(r);
    }
    return out;
}

template <class T>
Dataset<T> Dataset<T>::from_table(const Matrix<double>& table, Index inputs) {
    if (inputs <= 0 || inputs >= table.cols())
        throw ValueError(fmt::format("dataset: expected 1..{} input columns, found {}", table.cols() - 1, inputs));
    Dataset out;
    out.x = table.leftCols(inputs).template cast<T>();
    out.y = table.rightCols(table.cols() - inputs).template cast<T>();
    return out;
}

template <class T>
std::pair<Dataset<T>, Dataset<T>> train_val_split(const Dataset<T>& data, double val_fraction, std::uint64_t seed) {
    data.validate();
    if (!(val_fraction >= 0 && val_fraction < 1))
        throw ValueError(fmt::format("split: expected a validation fraction in [0, 1), found {}", val_fraction));
    const Index n = data.size();
    const auto n_val = static_cast<Index>(std::ceil(static_cast<double>(n) * val_fraction));
    Rng rng(seed);
    const std::vector<Index> perm = rng.permutation(n);
    std::vector<Index> val(perm.begin(), perm.begin() + n_val), train(perm.begin() + n_val, perm.end());
    return {data.subset(train), data.subset(val)};
}

template <class T>
BatchLoader<T>::BatchLoader(const Dataset<T>& data, Index batch_size, bool shuffle, std::uint64_t seed)
    : data_(&data), batch_(batch_size), shuffle_(shuffle), rng_(seed) {
    data.validate();
    if (batch_size <= 0) throw ValueError(fmt::format("loader: expected a positive batch size, found {}", batch_size));
    order_.resize(static_cast<std::size_t>(data.size()));
    for (Index i = 0; i < data.size(); ++i) order_[static_cast<std::size_t>(i)] = i;
    pos_ = data.size();
}

template <class T>
void BatchLoader<T>::start_epoch() {
    if (shuffle_) {
        for (Index i = 0; i < data_->size(); ++i) order_[static_cast<std::size_t>(i)] = i;
        rng_.shuffle(order_.begin(), order_.end());
    }
    pos_ = 0;
}

template <class T>
bool BatchLoader<T>::next(ConstMatrixMap<T>& x, ConstMatrixMap<T>& y) {
    const Index n = data_->size();
    if (pos_ >= n) return false;
    const Index rows = std::min(batch_, n - pos_);
    auto bx = bx_.resize(rows, data_->x.cols());
    auto by = by_.resize(rows, data_->y.cols());
    for (Index i = 0; i < rows; ++i) {
        const Index r = order_[static_cast<std::size_t>(pos_ + i)];
        bx.row(i) = data_->x.row(r);
        by.row(i) = data_->y.row(r);
    }
    pos_ += rows;
    rebind(x, bx_.cmap());
    rebind(y, by_.cmap());
    return true;
}

// ---- CSV ------------------------------------------------------------------------

namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = line.find(',', start);
        out.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool parse_number(std::string_view s, double& v) {
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return false;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

CsvTable parse_csv(const std::string& text) {
    CsvTable table;
    std::vector<double> values;
    Index cols = -1, rows = 0;
    std::size_t line_no = 0, pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string_view line = trim(std::string_view(text).substr(pos, end - pos));
        ++line_no;
        pos = end + 1;
        if (line.empty()) continue;
        const auto fields = split_fields(line);
        if (cols < 0) {
            double v;
            bool numeric = true;
            for (auto f : fields) numeric = numeric && parse_number(f, v);
            cols = static_cast<Index>(fields.size());
            if (!numeric) {
                for (auto f : fields) table.header.emplace_back(trim(f));
                continue;
            }
        }
        if (static_cast<Index>(fields.size()) != cols)
            throw ValueError(fmt::format("csv line {}: expected {} fields, found {}", line_no, cols, fields.size()));
        for (std::size_t c = 0; c < fields.size(); ++c) {
            double v;
            if (!parse_number(fields[c], v) || !std::isfinite(v))
                throw ValueError(fmt::format("csv line {}, column {}: expected a finite number, found '{}'", line_no, c + 1, trim(fields[c])));
            values.push_back(v);
        }
        ++rows;
    }
    table.values.resize(rows, std::max<Index>(cols, 0));
    std::copy(values.begin(), values.end(), table.values.data());
    return table;
}

CsvTable read_csv(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ValueError(fmt::format("csv: cannot open '{}' for reading", path));
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_csv(ss.str());
}

std::string format_csv(const CsvTable& table) {
    std::string out;
    for (std::size_t c = 0; c < table.header.size(); ++c) out += (c ? "," : "") + table.header[c];
    if (!table.header.empty()) out += '\n';
    for (Index r = 0; r < table.values.rows(); ++r) {
        for (Index c = 0; c < table.values.cols(); ++c) {
            if (c) out += ',';
            out += fmt::format("{}", table.values(r, c));  // shortest round-trip form
        }
        out += '\n';
    }
    return out;
}

void write_csv(const std::string& path, const CsvTable& table) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw ValueError(fmt::format("csv: cannot open '{}' for writing", path));
    out << format_csv(table);
    if (!out) throw ValueError(fmt::format("csv: failed writing '{}'", path));
}

template struct Dataset<float>;
template struct Dataset<double>;
template class BatchLoader<float>;
template class BatchLoader<double>;
template std::pair<Dataset<float>, Dataset<float>> train_val_split(const Dataset<float>&, double, std::uint64_t);
template std::pair<Dataset<double>, Dataset<double>> train_val_split(const Dataset<double>&, double, std::uint64_t);

}  // namespace actjit::nn
