// Data: in-memory datasets, a seeded train/validation split, shuffled
// batches (the last partial batch kept, as torch's DataLoader does), CSV.
#pragma once

#include <actjit/nn/core.hpp>

#include <string>
#include <vector>

namespace actjit::nn {

/// Inputs x [n x in] and targets y [n x out], one sample per row.
template <class T>
struct Dataset {
    Matrix<T> x, y;
    Index size() const noexcept { return x.rows(); }
    /// Throws ValueError unless x and y have the same number of rows and every value is finite.
    void validate() const;
    /// The rows `idx` of this dataset, in that order.
    Dataset subset(const std::vector<Index>& idx) const;
    /// From a table: the first `inputs` columns are x, the rest y.
    static Dataset from_table(const Matrix<double>& table, Index inputs);
};

/// A seeded split into (train, validation): a random permutation of the
/// rows, the first ceil(n * val_fraction) go to validation (as
/// sklearn's train_test_split sizes its test set).
template <class T>
std::pair<Dataset<T>, Dataset<T>> train_val_split(const Dataset<T>& data, double val_fraction, std::uint64_t seed);

/// Batches over a dataset: reshuffled each epoch when `shuffle` (a seeded
/// generator owned by the loader), the last batch may be smaller. Batches are
/// gathered into buffers owned by the loader (no allocation after the first).
/// The loader keeps a pointer to `data`, which must outlive it.
template <class T>
class BatchLoader {
public:
    BatchLoader(const Dataset<T>& data, Index batch_size, bool shuffle, std::uint64_t seed = 0);
    /// Start an epoch (reshuffles when enabled).
    void start_epoch();
    /// The next batch, or false at the end of the epoch.
    bool next(ConstMatrixMap<T>& x, ConstMatrixMap<T>& y);
    Index num_batches() const noexcept { return (data_->size() + batch_ - 1) / batch_; }
    /// The sample order of the current epoch.
    const std::vector<Index>& order() const noexcept { return order_; }

private:
    const Dataset<T>* data_;
    Index batch_;
    bool shuffle_;
    Rng rng_;
    std::vector<Index> order_;
    Index pos_ = 0;
    Buffer<T> bx_, by_;
};

/// A numeric CSV table. A first line that does not parse as numbers is the header.
struct CsvTable {
    std::vector<std::string> header;
    Matrix<double> values;
};

/// Read a CSV file of numbers (comma separated; blank lines skipped). Throws
/// ValueError naming the line and column of anything that is not a finite
/// number, or a row of the wrong length.
CsvTable read_csv(const std::string& path);
CsvTable parse_csv(const std::string& text);
/// Write with full precision (round-trips exactly). Throws ValueError if the file cannot be written.
void write_csv(const std::string& path, const CsvTable& table);
std::string format_csv(const CsvTable& table);

extern template struct Dataset<float>;
extern template struct Dataset<double>;
extern template class BatchLoader<float>;
extern template class BatchLoader<double>;

}  // namespace actjit::nn
